import { normalizeIndicator } from './indicator-normalizer';
import type { IndicatorType } from './indicator-type';

/** The identity of an indicator within a supplier: its type and canonical value. */
export interface IndicatorKey {
  type: IndicatorType;
  value: string;
}

/** A value to look up: the raw string sent, and its key when it is a valid indicator. */
export interface ValueLookup {
  raw: string;
  key: IndicatorKey | null;
}

export function lookupOf(raw: string, type?: IndicatorType): ValueLookup {
  const n = normalizeIndicator(raw, type);
  return { raw, key: n.ok ? { type: n.type, value: n.value } : null };
}

/** A key as one string, for Maps and Sets. */
export function keyString(k: IndicatorKey): string {
  return `${k.type}\u0000${k.value}`;
}
