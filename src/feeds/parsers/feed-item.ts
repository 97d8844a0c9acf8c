import type { IndicatorType } from '../../indicators';

/** A context value as uploads accept it (docs/api.md §3). */
export type FeedContextValue = string | number | boolean | string[];

/**
 * One indicator as a feed states it: the shape of an upload entry, so the writer validates and
 * normalises it exactly like `PUT …/indicators`.
 */
export interface FeedEntry {
  indicator: string;
  type?: IndicatorType;
  context?: Record<string, FeedContextValue>;
  tags?: string[];
  confidence?: number;
  firstSeen?: string;
  lastSeen?: string;
  expiresAt?: string;
}

/** What a parser hands out for each thing it read. */
export type FeedItem =
  | { kind: 'entry'; entry: FeedEntry }
  /** The feed says this indicator is gone (STIX `revoked`, MISP deleted attribute). */
  | { kind: 'removal'; indicator: string; type?: IndicatorType }
  /** Read but not usable (e.g. a STIX pattern outside the supported subset). */
  | { kind: 'rejected'; indicator: string | null; reason: string };

/** A feed body as it arrives: bytes, chunk by chunk. */
export type ByteStream = AsyncIterable<Buffer>;

/** The feed body cannot be read at all (the run fails and nothing is applied). */
export class MalformedFeedError extends Error {}

/** Context strings are capped like upload context strings. */
const CONTEXT_STRING_MAX = 4096;

export function clip(value: string): string {
  return value.length > CONTEXT_STRING_MAX ? value.slice(0, CONTEXT_STRING_MAX) : value;
}
