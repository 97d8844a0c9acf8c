/** Every kind of value Indicium can store and match. */
export const INDICATOR_TYPES = [
  'ip',
  'cidr',
  'domain',
  'url',
  'md5',
  'sha1',
  'sha256',
  'email',
] as const;

export type IndicatorType = (typeof INDICATOR_TYPES)[number];

const TYPE_SET: ReadonlySet<string> = new Set(INDICATOR_TYPES);

/** Runtime guard for types arriving from requests (query strings, JSON bodies). */
export function isIndicatorType(value: unknown): value is IndicatorType {
  return typeof value === 'string' && TYPE_SET.has(value);
}
