import { ByteStream, clip, FeedContextValue, FeedItem } from './feed-item';
import { jsonMembers } from './json-members';
import { parseStixPattern } from './stix-pattern';

const MAX_ARRAY_ITEMS = 100;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string').slice(0, MAX_ARRAY_ITEMS);
  return out.length > 0 ? out.map(clip) : undefined;
}

/**
 * The context of an indicator's values (docs/api.md §9): `stixId`, `name`, `description`,
 * `indicator_types`, `labels`.
 */
function contextOf(obj: Record<string, unknown>): Record<string, FeedContextValue> {
  const ctx: Record<string, FeedContextValue> = {};
  if (typeof obj.id === 'string') ctx.stixId = clip(obj.id);
  if (typeof obj.name === 'string') ctx.name = clip(obj.name);
  if (typeof obj.description === 'string') ctx.description = clip(obj.description);
  const types = strings(obj.indicator_types);
  if (types) ctx.indicator_types = types;
  const labels = strings(obj.labels);
  if (labels) ctx.labels = labels;
  return ctx;
}

/**
 * The indicators one STIX 2.1 object yields (docs/api.md §9). Objects other than `indicator`
 * yield nothing; an indicator whose pattern is outside the supported subset is one rejection;
 * a revoked indicator removes its values.
 */
export function stixObjectItems(obj: unknown): FeedItem[] {
  if (!isObject(obj) || obj.type !== 'indicator') return [];
  const id = typeof obj.id === 'string' ? obj.id : null;
  if (obj.pattern_type !== 'stix') {
    return [
      {
        kind: 'rejected',
        indicator: id,
        reason: `pattern_type ${JSON.stringify(obj.pattern_type ?? null)} is not supported (only "stix")`,
      },
    ];
  }
  if (typeof obj.pattern !== 'string') {
    return [{ kind: 'rejected', indicator: id, reason: 'the indicator has no pattern' }];
  }
  const parsed = parseStixPattern(obj.pattern);
  if (!parsed.ok) {
    return [
      { kind: 'rejected', indicator: clip(obj.pattern).slice(0, 256), reason: parsed.reason },
    ];
  }
  if (obj.revoked === true) {
    return parsed.comparisons.map((c) => ({ kind: 'removal', indicator: c.value, type: c.type }));
  }
  const context = contextOf(obj);
  const expiresAt = typeof obj.valid_until === 'string' ? obj.valid_until : undefined;
  const confidence =
    typeof obj.confidence === 'number' && Number.isInteger(obj.confidence)
      ? obj.confidence
      : undefined;
  const firstSeen = typeof obj.valid_from === 'string' ? obj.valid_from : undefined;
  return parsed.comparisons.map((c) => ({
    kind: 'entry',
    entry: {
      indicator: c.value,
      type: c.type,
      context,
      ...(confidence !== undefined ? { confidence } : {}),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(firstSeen !== undefined ? { firstSeen } : {}),
    },
  }));
}

/** `stix21` feeds: a STIX 2.1 bundle, its `objects` streamed one at a time. */
export async function* parseStixBundle(body: ByteStream): AsyncGenerator<FeedItem> {
  for await (const obj of jsonMembers(body, 'objects')) yield* stixObjectItems(obj);
}
