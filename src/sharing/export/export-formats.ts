import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { IndicatorType } from '../../indicators';
import type { ExportRecords } from '../sharing.repository';
import { stixIdOf, stixPatternOf } from '../stix/stix-mapping';
import { CHUNK_CHARS } from '../stream-body';

export const EXPORT_FORMATS = ['ndjson', 'csv', 'stix21'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * One output format: media type, file extension, and how a body is framed around the rows.
 * An entry per format, exhaustive over ExportFormat (a new format is a new entry).
 */
export interface ExportFormatter {
  mediaType: string;
  extension: string;
  head(): string;
  /** The records Postgres writes for it (SharingRepository.exportSelect / exportBatch). */
  rows: ExportRecords;
  tail(): string;
}

const CSV_COLUMNS = [
  'id',
  'indicator',
  'type',
  'context',
  'tags',
  'confidence',
  'firstSeen',
  'lastSeen',
  'expiresAt',
  'createdAt',
  'updatedAt',
  'hits',
  'lastHitAt',
] as const;

export const EXPORT_FORMATTERS: Record<ExportFormat, () => ExportFormatter> = {
  ndjson: () => ({
    mediaType: 'application/x-ndjson',
    extension: 'ndjson',
    head: () => '',
    rows: 'json-lines',
    tail: () => '',
  }),
  csv: () => ({
    mediaType: 'text/csv; charset=utf-8; header=present',
    extension: 'csv',
    head: () => CSV_COLUMNS.join(',') + '\r\n',
    rows: 'csv-records',
    tail: () => '',
  }),
  stix21: () => ({
    // A STIX bundle, written object by object (stixObjects).
    mediaType: 'application/stix+json;version=2.1',
    extension: 'stix.json',
    head: () => `{"type":"bundle","id":"bundle--${randomUUID()}","objects":[`,
    rows: 'stix-records',
    tail: () => ']}',
  }),
};

/**
 * One STIX `indicator` object (toStixIndicator's, with the x_indicium_ hit properties, key
 * for key) from a record of SharingRepository.stixRecords: Node adds the id and the pattern.
 * @internal exported for tests
 */
export function stixObjectOf(supplierId: string, record: string): string {
  const t1 = record.indexOf('\t');
  const t2 = record.indexOf('\t', t1 + 1);
  const t3 = record.indexOf('\t', t2 + 1);
  const type = record.slice(0, t1) as IndicatorType;
  const value = JSON.parse(record.slice(t1 + 1, t2)) as string;
  return (
    `{"type":"indicator","spec_version":"2.1","id":"${stixIdOf(supplierId, type, value)}",` +
    `${record.slice(t2 + 1, t3)},"name":${JSON.stringify(value)},` +
    `"pattern":${JSON.stringify(stixPatternOf(type, value))}${record.slice(t3 + 1)}`
  );
}

/**
 * The objects of a STIX bundle, comma-separated, from a stream of stixRecords records, one a
 * line (COPY's byte chunks or the keyset path's text): each chunk's complete records are
 * turned into objects at once, so nothing of a row outlives the chunk it came in.
 */
export async function* stixObjects(
  supplierId: string,
  records: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let first = true;
  for await (const chunk of records) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      rest = text;
      continue;
    }
    rest = text.slice(end + 1);
    let out = '';
    for (let at = 0; at <= end;) {
      const nl = text.indexOf('\n', at);
      out += (first ? '' : ',') + stixObjectOf(supplierId, text.slice(at, nl));
      first = false;
      at = nl + 1;
      if (out.length >= CHUNK_CHARS) {
        yield out;
        out = '';
      }
    }
    if (out) yield out;
  }
  rest += decoder.end();
  if (rest) throw new Error('STIX export: a record without its end of line');
}
