import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuditContext } from '../audit/audit-context';
import { DomainError, NoValidEntriesError } from '../common/errors/domain-errors';
import { IndicatorWriter, WriteResult } from '../suppliers/indicators/indicator-writer';
import type { IndicatorType } from '../indicators';
import { FeedCounts, FeedCursor, FeedValidators, RejectedSample } from './feed-config';
import { fetchFeed, FetchOptions } from './feed-fetcher';
import type { FeedRow, FinishedRun } from './feeds.repository';
import { DEFAULT_CSV, parseCsvFeed } from './parsers/csv-feed';
import { ByteStream, FeedEntry, FeedItem, MalformedFeedError } from './parsers/feed-item';
import { jsonMembers } from './parsers/json-members';
import { mispEventItems, mispManifestEvents } from './parsers/misp-feed';
import { parseStixBundle, stixObjectItems } from './parsers/stix21-feed';
import { parseTextFeed } from './parsers/text-feed';

/** The context names the importers set themselves (docs/api.md §9), beside lowercase ones. */
const FEED_CONTEXT_FIELDS: ReadonlySet<string> = new Set(['stixId', 'mispEvent']);

const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
const STIX_ACCEPT = 'application/stix+json, application/json';
const MAX_REJECTED_SAMPLE = 20;
/** A MISP manifest or event file is read whole (events are small; manifests list them). */
const MAX_MISP_DOCUMENT_BYTES = 64 * 1024 * 1024;
/** A TAXII server that keeps saying `more` is cut off here rather than looping forever. */
const MAX_TAXII_PAGES = 10_000;

/** What a run learned besides its items: saved for the next run after success. */
interface SourceState {
  validators?: FeedValidators;
  cursor?: FeedCursor;
}

type Source = { notModified: true } | { notModified: false; items: AsyncIterable<FeedItem> };

export interface RunEnvironment {
  signal: AbortSignal;
  allowPrivateNetworks: boolean;
  ctx: AuditContext;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function credentialHeaders(feed: FeedRow): Record<string, string> {
  const c = feed.credentials ?? {};
  switch (feed.authType) {
    case 'none':
      return {};
    case 'basic':
      return {
        Authorization: `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`,
      };
    case 'bearer':
      return { Authorization: `Bearer ${c.token ?? ''}` };
    case 'header':
      return c.headerName ? { [c.headerName]: c.headerValue ?? '' } : {};
  }
}

async function readWhole(body: ByteStream, limit: number, what: string): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new MalformedFeedError(`${what} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new MalformedFeedError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

async function* noEntries(): AsyncGenerator<never> {}

/** A message for lastError: what went wrong, never a stack or a credential. */
function describeFailure(err: unknown): string {
  if (err instanceof DomainError) return err.message;
  if (err instanceof Error) return err.message.slice(0, 1024);
  return String(err).slice(0, 1024);
}

type Removal = { indicator: string; type?: IndicatorType };

/** What a run counted, and the first rejections with their reasons. */
class RunTally {
  readonly counts: FeedCounts = { fetched: 0, created: 0, updated: 0, removed: 0, rejected: 0 };
  readonly rejectedSample: RejectedSample[] = [];

  reject(indicator: string | null, reason: string): void {
    this.counts.rejected++;
    if (this.rejectedSample.length < MAX_REJECTED_SAMPLE) {
      this.rejectedSample.push({ indicator, reason });
    }
  }

  add(r: WriteResult): void {
    this.counts.created += r.created;
    this.counts.updated += r.updated;
    this.counts.removed += r.removed;
    for (const f of r.failed) this.reject(f.indicator, f.reason);
  }
}

/**
 * The entries among a feed's items, for the writer; rejections are tallied, and revocations
 * collected into `removals` (merge) or dropped (replace: the new set simply lacks them).
 */
async function* entriesOf(
  items: AsyncIterable<FeedItem>,
  tally: RunTally,
  removals: Removal[] | null,
): AsyncGenerator<FeedEntry> {
  for await (const item of items) {
    tally.counts.fetched++;
    if (item.kind === 'entry') yield item.entry;
    else if (item.kind === 'rejected') tally.reject(item.indicator, item.reason);
    else removals?.push({ indicator: item.indicator, type: item.type });
  }
}

/** The run's audit details. Getters: the writer reads them after the stream, when it audits. */
function runDetails(feed: FeedRow, counts: FeedCounts): Record<string, unknown> {
  return {
    outcome: 'applied',
    format: feed.format,
    get fetched(): number {
      return counts.fetched;
    },
    /** Read but unusable (e.g. unsupported STIX patterns); `failed` counts invalid entries. */
    get unsupported(): number {
      return counts.rejected;
    },
  };
}

/**
 * One feed run (docs/api.md §9): fetch, parse as a stream, and apply through the one writer
 * path (IndicatorWriter), which validates and normalises every entry exactly like an upload.
 * `replace` is one transaction; an abort (timeout, shutdown, lost lease) rolls it back.
 */
@Injectable()
export class FeedRunner {
  constructor(private readonly writer: IndicatorWriter) {}

  async run(feed: FeedRow, env: RunEnvironment): Promise<FinishedRun> {
    const startedAt = new Date();
    const tally = new RunTally();
    const { counts, rejectedSample } = tally;
    try {
      const state: SourceState = {};
      const source = await this.open(feed, env, state);
      if (source.notModified) {
        return { startedAt, outcome: 'not_modified', error: null, counts, rejectedSample };
      }
      await this.apply(feed, env, source.items, tally);
      const { validators, cursor } = state;
      return {
        startedAt,
        outcome: 'applied',
        error: null,
        counts,
        rejectedSample,
        validators,
        cursor,
      };
    } catch (err) {
      if (err instanceof NoValidEntriesError) {
        for (const f of err.failures) tally.reject(f.indicator, f.reason);
      }
      const reason = env.signal.aborted ? (env.signal.reason as unknown) : err;
      return {
        startedAt,
        outcome: 'failed',
        error: describeFailure(reason),
        counts,
        rejectedSample,
      };
    }
  }

  /** The items through the writer; in merge mode, the revocations among them after. */
  private async apply(
    feed: FeedRow,
    env: RunEnvironment,
    items: AsyncIterable<FeedItem>,
    tally: RunTally,
  ): Promise<void> {
    const replace = feed.mode === 'replace';
    const removals: Removal[] = [];
    const written = await this.writer.write({
      supplierName: feed.supplierName,
      entries: entriesOf(items, tally, replace ? null : removals),
      mode: replace ? 'replace' : 'upsert',
      signal: env.signal,
      ownContextFields: FEED_CONTEXT_FIELDS,
      ctx: env.ctx,
      audit: { action: 'feed.run', details: runDetails(feed, tally.counts) },
    });
    tally.add(written);
    if (removals.length > 0) tally.counts.removed += await this.remove(feed, env, removals);
  }

  /**
   * merge: removals learnt while streaming go in a second write (merge promises no single
   * transaction), so a revocation later in the feed wins over an earlier entry.
   */
  private async remove(feed: FeedRow, env: RunEnvironment, removals: Removal[]): Promise<number> {
    env.signal.throwIfAborted();
    const removed = await this.writer.write({
      supplierName: feed.supplierName,
      entries: noEntries(),
      mode: 'upsert',
      removals,
      signal: env.signal,
      ctx: env.ctx,
      audit: { action: 'feed.run', details: { outcome: 'applied', removals: removals.length } },
    });
    return removed.removed;
  }

  private fetchOptions(
    feed: FeedRow,
    env: RunEnvironment,
    headers: Record<string, string>,
  ): FetchOptions {
    return {
      headers,
      credentialHeaders: credentialHeaders(feed),
      tlsVerify: feed.tlsVerify,
      caCertificate: feed.caCertificate,
      signal: env.signal,
      allowPrivateNetworks: env.allowPrivateNetworks,
    };
  }

  private async open(feed: FeedRow, env: RunEnvironment, state: SourceState): Promise<Source> {
    // Exhaustive over FeedFormat (no default): a new format does not compile until it is here.
    switch (feed.format) {
      case 'text':
        return this.openFile(feed, env, state, '*/*', parseTextFeed);
      case 'csv':
        return this.openFile(feed, env, state, '*/*', (body) =>
          parseCsvFeed(body, feed.csv ?? DEFAULT_CSV),
        );
      case 'stix21':
        return this.openFile(feed, env, state, STIX_ACCEPT, parseStixBundle);
      case 'taxii21':
        return { notModified: false, items: this.taxiiItems(feed, env, state) };
      case 'misp':
        return { notModified: false, items: this.mispItems(feed, env, state) };
    }
  }

  /** One file, fetched conditionally with the validators of the last successful run. */
  private async openFile(
    feed: FeedRow,
    env: RunEnvironment,
    state: SourceState,
    accept: string,
    parse: (body: ByteStream) => AsyncIterable<FeedItem>,
  ): Promise<Source> {
    const headers: Record<string, string> = { Accept: accept };
    if (feed.validators.etag) headers['If-None-Match'] = feed.validators.etag;
    if (feed.validators.lastModified) headers['If-Modified-Since'] = feed.validators.lastModified;
    const res = await fetchFeed(feed.url, this.fetchOptions(feed, env, headers));
    if (res.status === 'not_modified') return { notModified: true };
    const etag = header(res.headers, 'etag');
    const lastModified = header(res.headers, 'last-modified');
    state.validators = {
      ...(etag ? { etag } : {}),
      ...(lastModified ? { lastModified } : {}),
    };
    return { notModified: false, items: parse(res.body) };
  }

  /**
   * TAXII 2.1: the collection's objects, page by page (`more`/`next`), only those added after
   * the last successful run (the `X-TAXII-Date-Added-Last` it ended with).
   */
  private async *taxiiItems(
    feed: FeedRow,
    env: RunEnvironment,
    state: SourceState,
  ): AsyncGenerator<FeedItem> {
    const root = feed.url.endsWith('/') ? feed.url : `${feed.url}/`;
    const collection = encodeURIComponent(feed.taxii?.collectionId ?? '');
    let addedAfter = feed.cursor.addedAfter;
    let next: string | undefined;
    for (let page = 0; page < MAX_TAXII_PAGES; page++) {
      const url = new URL(`collections/${collection}/objects/`, root);
      if (addedAfter) url.searchParams.set('added_after', addedAfter);
      if (next) url.searchParams.set('next', next);
      const res = await fetchFeed(
        url.toString(),
        this.fetchOptions(feed, env, { Accept: TAXII_MEDIA_TYPE }),
      );
      if (res.status === 'not_modified') return;
      let envelope: Record<string, unknown> = {};
      for await (const obj of jsonMembers(res.body, 'objects', (s) => (envelope = s))) {
        yield* stixObjectItems(obj);
      }
      const last = header(res.headers, 'x-taxii-date-added-last');
      if (last) state.cursor = { addedAfter: last };
      if (envelope.more !== true) return;
      if (typeof envelope.next !== 'string' || envelope.next === '') {
        // TAXII 2.1 servers without `next` page by added_after alone.
        if (!last)
          throw new MalformedFeedError(
            'the TAXII envelope says "more" but gives neither "next" nor X-TAXII-Date-Added-Last',
          );
        addedAfter = last;
        next = undefined;
      } else {
        next = envelope.next;
      }
    }
    throw new MalformedFeedError(
      `the TAXII collection did not end within ${MAX_TAXII_PAGES} pages`,
    );
  }

  /** MISP: `manifest.json`, then each event whose timestamp is newer than the last run's. */
  private async *mispItems(
    feed: FeedRow,
    env: RunEnvironment,
    state: SourceState,
  ): AsyncGenerator<FeedItem> {
    const base = feed.url.endsWith('/') ? feed.url : `${feed.url}/`;
    const get = async (name: string): Promise<unknown> => {
      const res = await fetchFeed(
        new URL(name, base).toString(),
        this.fetchOptions(feed, env, { Accept: 'application/json' }),
      );
      if (res.status === 'not_modified') throw new MalformedFeedError(`${name}: unexpected 304`);
      return readWhole(res.body, MAX_MISP_DOCUMENT_BYTES, name);
    };
    const since = feed.cursor.eventTimestamp ?? 0;
    const events = mispManifestEvents(await get('manifest.json')).filter(
      (e) => e.timestamp > since,
    );
    let newest = since;
    for (const event of events) {
      yield* mispEventItems(await get(`${event.uuid}.json`));
      newest = Math.max(newest, event.timestamp);
    }
    state.cursor = { eventTimestamp: newest };
  }
}
