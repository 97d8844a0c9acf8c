/** Keys whose values never reach an audit record (docs/api.md §6: secrets, passwords, tokens). */
const SENSITIVE_KEY = /pass|secret|token|hash/i;
export const REDACTED = '[REDACTED]';

/** A deep copy of `value` with every sensitive key's value replaced, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[key] = SENSITIVE_KEY.test(key) ? REDACTED : redact(v);
    }
    return out;
  }
  return value;
}
