/**
 * Defanged notation analysts paste from reports and tickets, and what it stands for, matched
 * case-insensitively (the scheme last, so `hxxp[:]//` works too). Real indicators practically
 * never contain these sequences (a domain, address or hash cannot), so refanging leaves any
 * other value as it is.
 */
const DEFANGED: ReadonlyArray<[RegExp, string]> = [
  [/\[\.\]|\(\.\)|\{\.\}/g, '.'],
  [/\[:\]/g, ':'],
  [/\[at\]|\[@\]/gi, '@'],
  [/\bhxxps:\/\//gi, 'https://'],
  [/\bhxxp:\/\//gi, 'http://'],
];

/** Cheap pre-check: every pattern above has a bracket or "xx"; most values have neither. */
const MAYBE_DEFANGED = /[[({]|xx/i;

/** The value with defanged notation undone (`hxxp://evil[.]com` → `http://evil.com`). */
export function refang(text: string): string {
  if (!MAYBE_DEFANGED.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of DEFANGED) out = out.replace(pattern, replacement);
  return out;
}
