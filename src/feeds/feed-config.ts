import type { CsvMapping } from './parsers/csv-feed';

export const FEED_FORMATS = ['stix21', 'taxii21', 'misp', 'csv', 'text'] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];
export const FEED_MODES = ['replace', 'merge'] as const;
export type FeedMode = (typeof FEED_MODES)[number];
export const AUTH_TYPES = ['none', 'basic', 'bearer', 'header'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];
export const FEED_OUTCOMES = ['applied', 'not_modified', 'failed'] as const;
export type FeedOutcome = (typeof FEED_OUTCOMES)[number];

/** Formats that can only add to a supplier: an incremental source never holds the whole set. */
export const MERGE_ONLY: ReadonlySet<FeedFormat> = new Set(['taxii21', 'misp']);

/** The secrets a fetch sends; stored, never shown or audited. */
export interface FeedCredentials {
  username?: string;
  password?: string;
  token?: string;
  headerName?: string;
  headerValue?: string;
}

export interface FeedCounts {
  fetched: number;
  created: number;
  updated: number;
  removed: number;
  rejected: number;
}

export interface RejectedSample {
  indicator: string | null;
  reason: string;
}

/** What a run carries over to the next: conditional-GET validators and incremental cursors. */
export interface FeedValidators {
  etag?: string;
  lastModified?: string;
}
export interface FeedCursor {
  /** TAXII: `added_after` for the next run. */
  addedAfter?: string;
  /** MISP: the newest event timestamp applied. */
  eventTimestamp?: number;
}

/** A feed's configuration as stored (credentials included: never return this raw). */
export interface FeedSettings {
  url: string;
  format: FeedFormat;
  mode: FeedMode;
  intervalMinutes: number;
  enabled: boolean;
  authType: AuthType;
  credentials: FeedCredentials | null;
  csv: CsvMapping | null;
  taxii: { collectionId: string } | null;
  tlsVerify: boolean;
  caCertificate: string | null;
}
