import {
  INDICATOR_TYPES,
  IndicatorType,
  isIndicatorType,
  normalizeIndicator,
} from '../../indicators';
import { FALSE_POSITIVE_SUPPLIER } from '../built-in-suppliers';
import { TAG_NAME } from '../../tags/tag-name';

/** Context field names (docs/api.md §3); also what a supplier's actionableFields may name. */
export const CONTEXT_FIELD = /^[a-z0-9][a-z0-9_-]{0,254}$/;

/** Documented bounds of one upload entry. */
const ENTRY_LIMITS = {
  contextFields: 100,
  contextString: 4096,
  contextArray: 100,
  tags: 100,
} as const;

const ENTRY_FIELDS: ReadonlySet<string> = new Set([
  'indicator',
  'type',
  'context',
  'tags',
  'confidence',
  'firstSeen',
  'lastSeen',
  'expiresAt',
]);

/** ISO 8601: a date, or a date-time with an explicit zone (Z or ±hh:mm). */
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** A validated, normalised upload entry, ready to stage. */
export interface IndicatorEntry {
  type: IndicatorType;
  value: string;
  /** The context as JSON text (`{}` when none was sent). */
  context: string;
  confidence: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
  expiresAt: string | null;
  /** Tag ids; null when `tags` was omitted (assignments stay as they are). */
  tagIds: string[] | null;
}

export type EntryResult = { ok: true; entry: IndicatorEntry } | { ok: false; reason: string };

export interface EntryRules {
  /** FalsePositive entries may not carry context. */
  forbidContext: boolean;
  /** Tag id by UPPERCASE name, undefined when no such tag exists. */
  tagId: (upperName: string) => string | undefined;
  /** Context field names allowed besides CONTEXT_FIELD (set by an importer, not a client). */
  ownContextFields?: ReadonlySet<string>;
}

function fail(reason: string): EntryResult {
  return { ok: false, reason };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `indicator` of a raw entry for a failure report: the string sent, or null. */
export function rawIndicatorOf(raw: unknown): string | null {
  if (!isPlainObject(raw)) return null;
  const v = raw.indicator;
  if (typeof v !== 'string') return null;
  return v.length > 256 ? `${v.slice(0, 253)}...` : v;
}

function timestamp(raw: Record<string, unknown>, field: string): string | null | Error {
  const v = raw[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !ISO_8601.test(v)) {
    return new Error(`${field} must be an ISO 8601 timestamp`);
  }
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return new Error(`${field} must be an ISO 8601 timestamp`);
  return new Date(ms).toISOString();
}

function contextError(context: unknown, ownFields?: ReadonlySet<string>): string | null {
  if (!isPlainObject(context)) return 'context must be an object';
  const keys = Object.keys(context);
  if (keys.length > ENTRY_LIMITS.contextFields) {
    return `context has more than ${ENTRY_LIMITS.contextFields} fields`;
  }
  for (const key of keys) {
    if (!CONTEXT_FIELD.test(key) && !ownFields?.has(key)) {
      return `context field name ${JSON.stringify(key.slice(0, 64))} must match ${CONTEXT_FIELD.source}`;
    }
    const v = context[key];
    if (typeof v === 'string') {
      if (v.length > ENTRY_LIMITS.contextString) {
        return `context.${key} is longer than ${ENTRY_LIMITS.contextString} characters`;
      }
      // Postgres (jsonb) cannot store U+0000: refused here rather than failing the upload.
      if (v.includes('\0')) return `context.${key} contains a NUL character (U+0000)`;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `context.${key} must be a finite number`;
    } else if (Array.isArray(v)) {
      if (v.length > ENTRY_LIMITS.contextArray) {
        return `context.${key} has more than ${ENTRY_LIMITS.contextArray} items`;
      }
      for (const item of v) {
        if (typeof item !== 'string') return `context.${key} must be an array of strings`;
        if (item.length > ENTRY_LIMITS.contextString) {
          return `context.${key} has an item longer than ${ENTRY_LIMITS.contextString} characters`;
        }
        if (item.includes('\0')) return `context.${key} has an item with a NUL character (U+0000)`;
      }
    } else if (typeof v !== 'boolean') {
      return `context.${key} must be a string, number, boolean or array of strings`;
    }
  }
  return null;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

function tagIds(tags: unknown, rules: EntryRules): string[] | string {
  if (!Array.isArray(tags)) return 'tags must be an array of tag names';
  if (tags.length > ENTRY_LIMITS.tags) return `tags has more than ${ENTRY_LIMITS.tags} items`;
  const ids = new Set<string>();
  for (const tag of tags) {
    // Not String(tag): a hostile deeply nested array would overflow the stack (a 500).
    if (typeof tag !== 'string') return `tags must be an array of tag names (found ${kindOf(tag)})`;
    if (!TAG_NAME.test(tag)) {
      return `tag ${JSON.stringify(tag.slice(0, 64))} must match ${TAG_NAME.source}`;
    }
    const upper = tag.toUpperCase();
    const id = rules.tagId(upper);
    if (id === undefined) return `unknown tag "${upper}"`;
    ids.add(id);
  }
  return [...ids];
}

/** The context as JSON text, `{}` when none was sent. */
function contextJson(context: unknown, rules: EntryRules): string | Error {
  if (context === undefined || context === null) return '{}';
  const err = contextError(context, rules.ownContextFields);
  if (err) return new Error(err);
  if (rules.forbidContext && Object.keys(context).length > 0) {
    return new Error(`${FALSE_POSITIVE_SUPPLIER} indicators may not carry context`);
  }
  return JSON.stringify(context);
}

function confidenceOf(c: unknown): number | null | Error {
  if (c === undefined || c === null) return null;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 100) {
    return new Error('confidence must be an integer from 0 to 100');
  }
  return c;
}

/**
 * Validates and normalises one upload entry (docs/api.md §3). Never throws: a bad entry gives a
 * reason, which the upload reports as that entry's failure.
 */
export function validateEntry(raw: unknown, rules: EntryRules): EntryResult {
  if (!isPlainObject(raw)) return fail('entry must be a JSON object');
  for (const key in raw) {
    if (!ENTRY_FIELDS.has(key)) return fail(`unknown field "${key.slice(0, 64)}"`);
  }
  const { indicator, type } = raw;
  if (indicator === undefined || indicator === null) return fail('indicator is required');
  if (typeof indicator !== 'string') return fail('indicator must be a string');
  if (type !== undefined && type !== null && !isIndicatorType(type)) {
    return fail(`type must be one of: ${INDICATOR_TYPES.join(', ')}`);
  }

  const context = contextJson(raw.context, rules);
  if (context instanceof Error) return fail(context.message);
  const confidence = confidenceOf(raw.confidence);
  if (confidence instanceof Error) return fail(confidence.message);

  const firstSeen = timestamp(raw, 'firstSeen');
  if (firstSeen instanceof Error) return fail(firstSeen.message);
  const lastSeen = timestamp(raw, 'lastSeen');
  if (lastSeen instanceof Error) return fail(lastSeen.message);
  const expiresAt = timestamp(raw, 'expiresAt');
  if (expiresAt instanceof Error) return fail(expiresAt.message);

  let tags: string[] | null = null;
  if (raw.tags !== undefined && raw.tags !== null) {
    const ids = tagIds(raw.tags, rules);
    if (typeof ids === 'string') return fail(ids);
    tags = ids;
  }

  const wanted = type === undefined || type === null ? undefined : type;
  const normalized = normalizeIndicator(indicator, wanted);
  if (!normalized.ok) return fail(normalized.reason);

  return {
    ok: true,
    entry: {
      type: normalized.type,
      value: normalized.value,
      context,
      confidence,
      firstSeen,
      lastSeen,
      expiresAt,
      tagIds: tags,
    },
  };
}
