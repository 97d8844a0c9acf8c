import { randomUUID } from 'node:crypto';
import type { ExportLine, ExportRow } from '../sharing.repository';
import { toStixIndicator } from '../stix/stix-mapping';

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
  /** Formats a batch of rows, or 'json-lines': NDJSON lines (ndjsonLine) from lean rows. */
  rows: 'json-lines' | ((rows: ExportRow[], supplier: ExportSupplier) => string);
  tail(): string;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

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
 * One NDJSON line: the indicator-list item (docs/api.md §3), tags as {name, weight}, written
 * by concatenation (`tags` is already JSON; context comes as JSON text from the database).
 */
export function ndjsonLine(r: ExportLine, tags: string): string {
  return (
    `{"id":"${r.id}","indicator":${JSON.stringify(r.value)},"type":"${r.type}",` +
    `"context":${r.context},"tags":${tags},"confidence":${r.confidence ?? 'null'},` +
    `"firstSeen":${isoOrNull(r.firstSeen)},"lastSeen":${isoOrNull(r.lastSeen)},` +
    `"expiresAt":${isoOrNull(r.expiresAt)},"createdAt":${isoOrNull(r.createdAt)},` +
    `"updatedAt":${isoOrNull(r.updatedAt)}}\n`
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
] as const;

/** RFC 4180 field: quoted (inner quotes doubled) when it holds a comma, quote, CR or LF. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(r: ExportRow): string {
  const fields = [
    r.id,
    r.value,
    r.type,
    JSON.stringify(r.context),
    r.tags.map((t) => t.name).join(' '),
    r.confidence === null ? '' : String(r.confidence),
    iso(r.firstSeen) ?? '',
    iso(r.lastSeen) ?? '',
    iso(r.expiresAt) ?? '',
    iso(r.createdAt) ?? '',
    iso(r.updatedAt) ?? '',
  ];
  return fields.map(csvField).join(',') + '\r\n';
}

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
    rows: (rows) => {
      let out = '';
      for (const r of rows) out += csvLine(r);
      return out;
    },
    tail: () => '',
  }),
  stix21: () => {
    // A STIX bundle, written object by object; a comma goes before every object but the first.
    let first = true;
    return {
      mediaType: 'application/stix+json;version=2.1',
      extension: 'stix.json',
      head: () => `{"type":"bundle","id":"bundle--${randomUUID()}","objects":[`,
      rows: (rows, supplier) => {
        let out = '';
        for (const r of rows) {
          const o = toStixIndicator({
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
          out += (first ? '' : ',') + JSON.stringify(o);
          first = false;
        }
        return out;
      },
      tail: () => ']}',
    };
  },
};
