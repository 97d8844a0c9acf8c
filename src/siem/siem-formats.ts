import type { AuditRecord } from '../audit/audit-chain';
import { isIndicatorType, type IndicatorType } from '../indicators';

/** Syslog facility 13, "log audit" (RFC 5424 §6.2.1). */
const SYSLOG_FACILITY = 13;
const APP_NAME = 'indicium';

/** failure/denied → warning (4); success → notice (5). */
function syslogSeverity(outcome: AuditRecord['outcome']): number {
  return outcome === 'success' ? 5 : 4;
}

/** CEF severity 0–10: success 3 (low), failure 6, denied 7. */
function cefSeverity(outcome: AuditRecord['outcome']): number {
  return outcome === 'success' ? 3 : outcome === 'failure' ? 6 : 7;
}

/**
 * CEF header fields: `\` → `\\`, `|` → `\|`; line breaks are not allowed there and become spaces.
 * @internal exported for tests
 */
export function cefHeader(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r\n|\r|\n/g, ' ');
}

/**
 * CEF extension values: `\` → `\\`, `=` → `\=`, LF → `\n`, CR → `\r`.
 * @internal exported for tests
 */
export function cefValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/=/g, '\\=')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

/** @internal exported for tests */
export function toCef(r: AuditRecord, version: string): string {
  const header = ['CEF:0', 'Indicium', 'Indicium', version, r.action, r.action]
    .map(cefHeader)
    .join('|');
  const ext: Array<[string, string]> = [
    ['rt', String(Date.parse(r.timestamp))],
    ['suser', r.actorName ?? ''],
    ['src', r.ip ?? ''],
    ['outcome', r.outcome],
    ['externalId', String(r.sequence)],
    ['cs1Label', 'EntityName'],
    ['cs1', r.entityName ?? ''],
    ['cs2Label', 'OldValue'],
    ['cs2', JSON.stringify(r.oldValue ?? null)],
    ['cs3Label', 'NewValue'],
    ['cs3', JSON.stringify(r.newValue ?? null)],
  ];
  return `${header}|${cefSeverity(r.outcome)}|${ext.map(([k, v]) => `${k}=${cefValue(v)}`).join(' ')}`;
}

/** The record as JSON, fields in API order. */
export function toJson(r: AuditRecord): string {
  const { id, sequence, timestamp, actorType, actorId, actorName, action, entityType, entityName } =
    r;
  const { operation, outcome, oldValue, newValue, ip, userAgent, requestId, hash } = r;
  return JSON.stringify({
    id,
    sequence,
    timestamp,
    actorType,
    actorId,
    actorName,
    action,
    entityType,
    entityName,
    operation,
    outcome,
    oldValue,
    newValue,
    ip,
    userAgent,
    requestId,
    hash,
  });
}

/** A detection event as the detections stream forwards it (docs/api.md §11). */
export interface DetectionEvent {
  id: number;
  at: string;
  value: string;
  type: string;
  result: string;
  principal: string;
  supplier: string;
  indicator: string;
  indicatorType: string;
  matchedBy: string;
  context: Record<string, unknown>;
  retro: boolean;
}

/** CEF severity of a detection: 8 (high); syslog severity: warning (4). */
const DETECTION_CEF_SEVERITY = 8;
const DETECTION_SYSLOG_SEVERITY = 4;

/**
 * The CEF key the searched value goes in, for every indicator type: a type added without
 * its entry does not compile.
 */
const DETECTION_VALUE_KEY: Record<IndicatorType, string> = {
  ip: 'src',
  cidr: 'src',
  domain: 'dhost',
  url: 'request',
  email: 'duser',
  md5: 'fileHash',
  sha1: 'fileHash',
  sha256: 'fileHash',
};

/** Detection types come from our own normaliser; anything else is refused, not guessed. */
function detectionValueKey(type: string): string {
  if (!isIndicatorType(type)) throw new Error(`detection of unknown indicator type "${type}"`);
  return DETECTION_VALUE_KEY[type];
}

function detectionToCef(d: DetectionEvent, version: string): string {
  const header = [
    'CEF:0',
    'Indicium',
    'Indicium',
    version,
    'detection',
    d.retro ? 'retro detection' : 'detection',
  ]
    .map(cefHeader)
    .join('|');
  const ext: Array<[string, string]> = [
    ['rt', String(Date.parse(d.at))],
    ['suser', d.principal],
    [detectionValueKey(d.type), d.value],
    ['outcome', d.result],
    ['externalId', String(d.id)],
    ['cs1Label', 'Supplier'],
    ['cs1', d.supplier],
    ['cs2Label', 'MatchedBy'],
    ['cs2', d.matchedBy],
    ['cs3Label', 'Context'],
    ['cs3', JSON.stringify(d.context)],
    ['cs4Label', 'Indicator'],
    ['cs4', d.indicator],
    ['cs5Label', 'Retro'],
    ['cs5', String(d.retro)],
  ];
  return `${header}|${DETECTION_CEF_SEVERITY}|${ext.map(([k, v]) => `${k}=${cefValue(v)}`).join(' ')}`;
}

/** The event as JSON, fields in API order, marked with its stream. */
export function detectionToJson(d: DetectionEvent): string {
  const { id, at, value, type, result, principal, supplier, indicator, indicatorType } = d;
  const { matchedBy, context, retro } = d;
  return JSON.stringify({
    stream: 'detections',
    id,
    at,
    value,
    type,
    result,
    principal,
    supplier,
    indicator,
    indicatorType,
    matchedBy,
    context,
    retro,
  });
}

/** RFC 5424 header tokens: printable US-ASCII without spaces, bounded, or the nil value `-`. */
function token(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** `<PRI>1 TIMESTAMP HOSTNAME indicium - MSGID - MSG`, MSGID = the action, no structured data. */
export function toSyslog(r: AuditRecord, msg: string, hostname: string): string {
  const pri = SYSLOG_FACILITY * 8 + syslogSeverity(r.outcome);
  return `<${pri}>1 ${r.timestamp} ${token(hostname, 255)} ${APP_NAME} - ${token(r.action, 32)} - ${msg}`;
}

/** `<PRI>1 TIMESTAMP HOSTNAME indicium - detection - MSG`. */
export function detectionToSyslog(d: DetectionEvent, msg: string, hostname: string): string {
  const pri = SYSLOG_FACILITY * 8 + DETECTION_SYSLOG_SEVERITY;
  return `<${pri}>1 ${d.at} ${token(hostname, 255)} ${APP_NAME} - detection - ${msg}`;
}

/** RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in bytes. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * Every format a syslog integration can send as its MSG part: one entry each, encoding both
 * streams (audit records and detection events). The API enum,
 * validation and delivery all derive from this table; the database CHECK on
 * `siem_integrations.format` lists the same names (docs/extending.md).
 */
export const SIEM_FORMATS = {
  cef: {
    encode: (r: AuditRecord, version: string): string => toCef(r, version),
    detection: (d: DetectionEvent, version: string): string => detectionToCef(d, version),
  },
  json: {
    encode: (r: AuditRecord): string => toJson(r),
    detection: (d: DetectionEvent): string => detectionToJson(d),
  },
} as const satisfies Record<
  string,
  {
    encode(r: AuditRecord, version: string): string;
    detection(d: DetectionEvent, version: string): string;
  }
>;

export type SiemFormat = keyof typeof SIEM_FORMATS;
export const SIEM_FORMAT_NAMES = Object.keys(SIEM_FORMATS) as SiemFormat[];
