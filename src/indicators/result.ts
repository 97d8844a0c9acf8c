/** Internal result shape: validators report a reason instead of throwing. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Quotes a fragment of user input for a reason message. Long fragments are cut so a
 * 2 KB junk value cannot turn into a 2 KB error message; JSON escaping keeps odd
 * characters visible.
 */
export function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 61)}...` : text);
}
