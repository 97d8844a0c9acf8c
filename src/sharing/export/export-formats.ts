import { randomUUID } from 'node:crypto';
import type { ExportLine, ExportRow, HitSum } from '../sharing.repository';
import { toStixIndicator, type StixIndicator } from '../stix/stix-mapping';

export const EXPORT_FORMATS = ['ndjson', 'csv', 'stix21'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What an export needs to know of its supplier. */
export interface ExportSupplier {
  id: string;
  name: string;
  confidence: number;
}

/**
 * One output format: media type, file extension, and how a body is framed around the rows.
 * An entry per format, exhaustive over ExportFormat (a new format is a new entry).
 */
export interface ExportFormatter {
  mediaType: string;
  extension: string;
  head(): string;
  /**
   * Formats a batch of rows with the hit sums of its ever-hit ids, or 'json-lines': NDJSON
   * lines (ndjsonLine) from lean rows, or 'csv-records': records Postgres writes
   * (SharingRepository.exportCsvSelect / exportCsvBatch).
   */
  rows:
    | 'json-lines'
    | 'csv-records'
    | ((rows: ExportRow[], supplier: ExportSupplier, hits: ReadonlyMap<string, HitSum>) => string);
  tail(): string;
}

/**
 * Epoch milliseconds as a quoted ISO string. Rows written together share their timestamps
 * (a write stamps its transaction's start), so the last few are remembered: formatting a Date
 * was the export's largest cost in Node.
 */
const recentIso = new Map<number, string>();
function isoOrNull(ms: number | null): string {
  if (ms === null) return 'null';
  let s = recentIso.get(ms);
  if (s === undefined) {
    if (recentIso.size >= 64) recentIso.clear();
    s = `"${new Date(ms).toISOString()}"`;
    recentIso.set(ms, s);
  }
  return s;
}

/**
 * One NDJSON line: the indicator-list item (docs/api.md §3, §11 hits), tags as {name, weight},
 * written by concatenation (`tags` is already JSON; context comes as JSON text from the
 * database; `hit` is absent for an indicator never hit).
 */
export function ndjsonLine(r: ExportLine, tags: string, hit: HitSum | undefined): string {
  return (
    `{"id":"${r.id}","indicator":${JSON.stringify(r.value)},"type":"${r.type}",` +
    `"context":${r.context},"tags":${tags},"confidence":${r.confidence ?? 'null'},` +
    `"firstSeen":${isoOrNull(r.firstSeen)},"lastSeen":${isoOrNull(r.lastSeen)},` +
    `"expiresAt":${isoOrNull(r.expiresAt)},"createdAt":${isoOrNull(r.createdAt)},` +
    `"updatedAt":${isoOrNull(r.updatedAt)},"hits":${hit ? hit.hits : 0},` +
    `"lastHitAt":${hit ? isoOrNull(hit.lastHitAt) : 'null'}}\n`
  );
}

export const CSV_COLUMNS = [
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
  stix21: () => {
    // A STIX bundle, written object by object; a comma goes before every object but the first.
    let first = true;
    return {
      mediaType: 'application/stix+json;version=2.1',
      extension: 'stix.json',
      head: () => `{"type":"bundle","id":"bundle--${randomUUID()}","objects":[`,
      rows: (rows, supplier, hits) => {
        let out = '';
        for (const r of rows) {
          const hit = hits.get(r.id);
          const o: StixIndicator & { x_indicium_hits?: number; x_indicium_last_hit_at?: string } =
            toStixIndicator({
              supplierId: supplier.id,
              type: r.type,
              value: r.value,
              context: r.context,
              tags: r.tags.map((t) => t.name),
              confidence: r.confidence ?? supplier.confidence,
              createdAt: r.createdAt,
              updatedAt: r.updatedAt,
              expiresAt: r.effectiveExpiresAt,
            });
          // Custom properties (STIX 2.1 §11.1: x_ prefix); a property is left out, never null.
          o.x_indicium_hits = hit ? Number(hit.hits) : 0;
          if (hit) o.x_indicium_last_hit_at = new Date(hit.lastHitAt).toISOString();
          out += (first ? '' : ',') + JSON.stringify(o);
          first = false;
        }
        return out;
      },
      tail: () => ']}',
    };
  },
};
