import { fail, NormalizeResult } from './canonical-forms';
import { INDICATOR_TYPES, IndicatorType } from './indicator-type';
import { DetectionRule, INDICATOR_TYPE_DEFINITIONS } from './indicator-types';
import { refang } from './refang';
import { quote } from './result';

export type { NormalizeResult } from './canonical-forms';

const MAX_LENGTH = 2048;
const HEX = /^[0-9a-f]+$/i;
// Whitespace (including Unicode spaces) and C0/DEL/C1 control characters.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\s\u0000-\u001f\u007f-\u009f]/;
const WHITESPACE = /\s/;

/** "md5 has 32, sha1 40, sha256 64" */
const HASHES = INDICATOR_TYPES.flatMap((type) => {
  const length = INDICATOR_TYPE_DEFINITIONS[type].hexLength;
  return length === undefined ? [] : [`${type} ${length}`];
})
  .join(', ')
  .replace(' ', ' has ');

/** A long dotless hex string of no hash's length can only be a bad hash; say so rather than "single label". */
const MALFORMED_HASH: DetectionRule = {
  rank: 35,
  detect: (text) =>
    text.length >= 16 && HEX.test(text)
      ? fail(`not a valid hash: ${text.length} hex digits (${HASHES})`)
      : null,
};

/** Every type's detection rules, in rank order (docs/api.md §3: the detection order). */
const DETECTION: readonly DetectionRule[] = [
  MALFORMED_HASH,
  ...INDICATOR_TYPES.flatMap((t) => INDICATOR_TYPE_DEFINITIONS[t].detection),
].sort((a, b) => a.rank - b.rank);

function detect(text: string): NormalizeResult {
  for (const rule of DETECTION) {
    const result = rule.detect(text);
    if (result) return result;
  }
  return fail('not a recognised indicator'); // unreachable: the domain rule answers everything
}

/**
 * Validates an indicator value and returns its canonical form and type. With `type`,
 * the value must be of that type (a /32 or /128 `cidr` comes back as `ip`); without
 * it, the type is detected. Never throws: bad input gives `{ ok: false, reason }`.
 */
export function normalizeIndicator(value: string, type?: IndicatorType): NormalizeResult {
  if (typeof value !== 'string') return fail('the value must be a string');
  const text = refang(value.trim());
  if (text === '') return fail('the value is empty');
  if (text.length > MAX_LENGTH) return fail(`the value is longer than ${MAX_LENGTH} characters`);
  const forbidden = FORBIDDEN.exec(text);
  if (forbidden) {
    return fail(
      WHITESPACE.test(forbidden[0])
        ? 'the value contains whitespace'
        : 'the value contains a control character',
    );
  }

  if (type === undefined) return detect(text);
  // Guards values that came straight from a request: typed callers never miss.
  const definition = Object.hasOwn(INDICATOR_TYPE_DEFINITIONS, type)
    ? INDICATOR_TYPE_DEFINITIONS[type]
    : undefined;
  if (!definition) return fail(`unknown indicator type ${quote(String(type))}`);
  return definition.canonical(text);
}
