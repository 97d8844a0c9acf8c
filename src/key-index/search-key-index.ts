import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Client } from 'pg';
import { Counter, Gauge } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { FailureStreak } from '../common/logging';
import { WakeLoop } from '../common/wake-loop';
import { AppConfig } from '../config/app-config';
import type { IndicatorType, PrefixLengths } from '../indicators';
import { MetricsService } from '../health/metrics.service';
import { Readiness } from '../health/readiness';
import { inTenant, requireTenant } from '../database/tenant-context';
import { TenantDirectory } from '../tenancy/tenant-directory';
import { FEED_CHANNEL, KeyChange, KeyFeedRepository } from './key-feed.repository';
import { addEncoded, encodeHash, KeySet, ScopeSeed, scopeSeed } from './key-set';

/** Followers poll the feed this often (a NOTIFY wakes them sooner). */
const POLL_MS = 250;
/** Feed rows read per query. */
const FEED_PAGE = 64;
/** Indicators read per query at start-up. */
const SCAN_PAGE = 100_000;
/** How often to compare keys held with indicators stored, and prune the feed. */
const HOUSEKEEPING_MS = 60_000;
/** Feed rows are kept this long (an index further behind rebuilds). */
const FEED_RETENTION_MINUTES = 60;
/** Rebuild once the index holds more than this share of dead keys. */
const DEAD_KEY_SHARE = 0.5;

/**
 * The scope a supplier's keys hash in: its tenant's id, or `shared:<tenant id>` for a supplier
 * shared with descendants, so a subscriber's search probes the shared keys of its ancestors and
 * never their private ones (docs/tenancy.md).
 */
export function keyScope(tenant: string, sharing: 'none' | 'descendants'): string {
  return sharing === 'descendants' ? `shared:${tenant}` : tenant;
}

/** The keys one write adds, collected while it runs and recorded just before it commits. */
export class KeyAdditions {
  private buf = Buffer.alloc(8 * 1024);
  private n = 0;
  private readonly cidr = { 4: new Set<number>(), 6: new Set<number>() };
  private seed: ScopeSeed;

  /** `scope`: the tenant whose indicators the write changes (see `keyScope`). */
  constructor(
    private readonly index: SearchKeyIndex,
    private scope: string,
  ) {
    this.seed = scopeSeed(scope);
  }

  /**
   * Sets the scope from the supplier the write locked (its sharing may have changed since it
   * was looked up); before the first key only.
   */
  rescope(scope: string): void {
    if (this.n > 0) throw new Error('a write cannot change the scope of keys it added');
    this.scope = scope;
    this.seed = scopeSeed(scope);
  }

  add(type: string, value: string): void {
    if ((this.n + 1) * 8 > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger);
      this.buf = bigger;
    }
    encodeHash(type, value, this.seed, this.buf, this.n * 8);
    this.n++;
    if (type === 'cidr') {
      const slash = value.lastIndexOf('/');
      this.cidr[value.includes(':') ? 6 : 4].add(Number(value.slice(slash + 1)));
    }
  }

  /**
   * Adds the keys to this instance's index, then writes the feed row that tells the others:
   * call as the transaction's last statement. The local index holds them before the commit.
   */
  async commit(tx: EntityManager): Promise<void> {
    if (this.n === 0) return;
    const hashes = this.buf.subarray(0, this.n * 8);
    const cidr4 = [...this.cidr[4]];
    const cidr6 = [...this.cidr[6]];
    this.index.apply(this.scope, hashes, cidr4, cidr6);
    await this.index.feed.append(tx, this.scope, hashes, cidr4, cidr6);
  }
}

/** The CIDR prefix lengths one scope's indicators have (or had), per family. */
interface Lengths {
  cidr4: Uint8Array;
  cidr6: Uint8Array;
}

/** An index being built: the set of every scope's keys, and each scope's prefix lengths. */
interface Generation {
  keys: KeySet;
  lengths: Map<string, Lengths>;
}

function newGeneration(expected = 0): Generation {
  return { keys: new KeySet(expected), lengths: new Map() };
}

function lengthsOf(g: Generation, scope: string): Lengths {
  let l = g.lengths.get(scope);
  if (!l) g.lengths.set(scope, (l = { cidr4: new Uint8Array(33), cidr6: new Uint8Array(129) }));
  return l;
}

/** What search asks the index within one scope. */
export interface ScopedKeys {
  /** Whether the key may exist in the scope: false only for a key none of its indicators has. */
  mayHold(type: IndicatorType, value: string): boolean;
  /** Counts one search's index answers and how many of its maybes Postgres confirmed. */
  count(maybe: number, miss: number, confirmed: number): void;
}

const NO_LENGTHS: Lengths = { cidr4: new Uint8Array(33), cidr6: new Uint8Array(129) };

function applyTo(
  g: Generation,
  scope: string,
  hashes: Uint8Array,
  cidr4: readonly number[],
  cidr6: readonly number[],
): void {
  addEncoded(g.keys, hashes);
  const lengths = lengthsOf(g, scope);
  for (const l of cidr4) lengths.cidr4[l] = 1;
  for (const l of cidr6) lengths.cidr6[l] = 1;
}

/**
 * This instance's in-memory index of every indicator key (docs/api.md §5): search asks it
 * which keys may exist and sends only those to Postgres. Built from `indicators` at start-up
 * (readiness holds until it is), fed by this instance's writes before they commit, and by the
 * change feed for everyone else's: NOTIFY wakes it, polling every 250 ms backs that up, and a
 * feed it cannot follow (pruned past it) or a failed read it cannot vouch for means a rebuild.
 * Removals are never applied: dead keys cost a query each until a background rebuild.
 */
@Injectable()
export class SearchKeyIndex implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SearchKeyIndex.name);
  readonly enabled: boolean;
  private current: Generation | null = null;
  private building: Generation | null = null;
  /** Feed position applied (bigint as text). */
  private seq = '0';
  private headSeq = '0';
  private caughtUpAt = Date.now();
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private housekeeping: NodeJS.Timeout | null = null;
  /** Feed reads, one at a time; a wake during a read asks for one more right after. */
  /** Retry loops log when they start failing and when they recover, not every try. */
  private readonly feedReads = new FailureStreak(this.logger, 'reading the search key feed');
  private readonly builds = new FailureStreak(this.logger, 'building the search key index');
  private readonly listens = new FailureStreak(
    this.logger,
    'the search key feed LISTEN connection',
  );
  private readonly follower = new WakeLoop(
    async () => {
      // Not while a rebuild runs: it applies the feed itself before it swaps.
      if (this.rebuilding || !this.current) return;
      await this.poll();
      this.feedReads.succeeded();
    },
    (err: unknown) => this.feedReads.failed(err),
  );
  private rebuilding: Promise<void> | null = null;
  private listener: Client | null = null;
  private readonly releaseReadiness: () => void;
  private readonly lookups: Counter<'answer'>;
  private readonly rebuilds: Counter<'reason'>;
  private readonly confirmations: Counter<'result'>;

  constructor(
    readonly feed: KeyFeedRepository,
    @Inject(AppConfig) private readonly config: AppConfig,
    metrics: MetricsService,
    readiness: Readiness,
    private readonly tenants: TenantDirectory,
  ) {
    this.enabled = config.env.SEARCH_INDEX === 'on';
    this.releaseReadiness = this.enabled ? readiness.hold('search key index loading') : () => {};
    const registers = [metrics.registry];
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge('indicium_search_index_keys', 'Keys held by the search key index', () =>
      this.current ? this.current.keys.size : 0,
    );
    gauge('indicium_search_index_bytes', 'Bytes of the search key index table', () =>
      this.current ? this.current.keys.bytes : 0,
    );
    gauge(
      'indicium_search_index_lag_seconds',
      'Seconds since the index last caught up with the change feed',
      () => (this.current ? (Date.now() - this.caughtUpAt) / 1000 : 0),
    );
    gauge(
      'indicium_search_index_lag_changes',
      'Change-feed sequence numbers the index has not applied yet',
      () => Number(BigInt(this.headSeq) - BigInt(this.seq)),
    );
    this.lookups = new Counter({
      name: 'indicium_search_index_lookups_total',
      help: 'Search keys asked of the index: maybe (sent to Postgres) or miss',
      labelNames: ['answer'],
      registers,
    });
    this.confirmations = new Counter({
      name: 'indicium_search_index_confirmations_total',
      help: 'Maybe keys Postgres confirmed (found) or not',
      labelNames: ['result'],
      registers,
    });
    this.rebuilds = new Counter({
      name: 'indicium_search_index_rebuilds_total',
      help: 'Index builds, by reason',
      labelNames: ['reason'],
      registers,
    });
  }

  /** Whether search may consult the index (on, and loaded). */
  get ready(): boolean {
    return this.current !== null;
  }

  /** A collector for one write's additions, in the tenant it runs in (IndicatorWriter). */
  additions(sharing: 'none' | 'descendants' = 'none'): KeyAdditions {
    return new KeyAdditions(this, keyScope(requireTenant(), sharing));
  }

  /**
   * The scopes a tenant's search reads, of those holding any key: its own, its shared
   * suppliers', and those its ancestors share (which of them it subscribed to, Postgres decides).
   */
  scopesOf(tenant: string, ancestors: readonly string[]): string[] {
    const lengths = (this.current as Generation).lengths;
    const all = [tenant, keyScope(tenant, 'descendants')];
    for (const a of ancestors) all.push(keyScope(a, 'descendants'));
    return all.filter((s, i) => i === 0 || lengths.has(s));
  }

  /** The index as a search in these scopes sees it: their keys only. */
  scoped(scopes: readonly string[]): ScopedKeys {
    const keys = (this.current as Generation).keys;
    const seeds = scopes.map(scopeSeed);
    const mayHold =
      seeds.length === 1
        ? (type: string, value: string) => keys.has(type, value, seeds[0])
        : (type: string, value: string) => seeds.some((seed) => keys.has(type, value, seed));
    return { mayHold, count: (maybe, miss, confirmed) => this.count(maybe, miss, confirmed) };
  }

  /** Counts one search's index answers and how many of its maybes Postgres confirmed. */
  count(maybe: number, miss: number, confirmed: number): void {
    if (maybe > 0) this.lookups.inc({ answer: 'maybe' }, maybe);
    if (miss > 0) this.lookups.inc({ answer: 'miss' }, miss);
    if (confirmed > 0) this.confirmations.inc({ result: 'found' }, confirmed);
    if (maybe > confirmed) this.confirmations.inc({ result: 'not_found' }, maybe - confirmed);
  }

  /** The CIDR prefix lengths any of the scopes' indicators has (or had): no query needed. */
  prefixLengths(scopes: readonly string[]): PrefixLengths {
    const all = scopes.map((s) => (this.current as Generation).lengths.get(s) ?? NO_LENGTHS);
    const lens = (family: 'cidr4' | 'cidr6'): number[] => {
      const out: number[] = [];
      for (let len = 0; len < all[0][family].length; len++)
        if (all.some((l) => l[family][len])) out.push(len);
      return out;
    };
    return { 4: lens('cidr4'), 6: lens('cidr6') };
  }

  /** Adds hashes (feed format) to the index and to one being built, so neither misses them. */
  apply(
    scope: string,
    hashes: Uint8Array,
    cidr4: readonly number[],
    cidr6: readonly number[],
  ): void {
    for (const g of [this.current, this.building]) {
      if (g) applyTo(g, scope, hashes, cidr4, cidr6);
    }
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    void this.rebuild('start');
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.housekeeping = setInterval(() => void this.tidy(), HOUSEKEEPING_MS);
    this.housekeeping.unref();
    if (!this.config.usesEmbeddedDatabase) void this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.housekeeping) clearInterval(this.housekeeping);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch((err: Error) => {
      // Nothing waits on this session any more: the feed is read by polling until we stop.
      this.logger.debug(
        `search key index LISTEN session did not end cleanly at shutdown: ${err.message}`,
      );
    });
    // Never rejects: each build attempt catches its own failure (this.builds logs it).
    await this.rebuilding;
    await this.follower.stop();
  }

  /** Reads the feed now (or right after the read in progress). */
  private wake(): void {
    if (this.stopped || this.rebuilding || !this.current) return;
    this.follower.wake();
  }

  private async poll(): Promise<void> {
    for (;;) {
      const { changes, prunedThrough, head } = await this.feed.since(this.seq, FEED_PAGE);
      if (BigInt(head) > BigInt(this.headSeq)) this.headSeq = head;
      if (BigInt(prunedThrough) > BigInt(this.seq)) {
        void this.rebuild('gap');
        return;
      }
      this.applyChanges(changes);
      if (changes.length < FEED_PAGE) break;
    }
    this.caughtUpAt = Date.now();
  }

  private applyChanges(changes: KeyChange[]): void {
    for (const c of changes) {
      this.apply(c.scope, c.hashes, c.cidr4, c.cidr6);
      this.seq = c.seq;
    }
    if (BigInt(this.seq) > BigInt(this.headSeq)) this.headSeq = this.seq;
  }

  /**
   * Builds a new generation from `indicators` while the old one (if any) keeps answering:
   * writes of this instance meanwhile go to both; the feed after the scan's snapshot is
   * applied before the swap.
   */
  private rebuild(reason: string): Promise<void> {
    this.rebuilding ??= (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          const started = Date.now();
          const expected = await this.indicatorCount();
          const g = (this.building = newGeneration(expected));
          const seq = await this.feed.head();
          // Tenant by tenant, each in a snapshot taken after `seq`: the feed from `seq` on is
          // applied again below (adding a key twice is harmless).
          for (const tenant of this.tenants.working()) {
            await inTenant(tenant.id, () => this.scanTenant(g, tenant.id));
          }
          let at = seq;
          for (;;) {
            const { changes, prunedThrough } = await this.feed.since(at, FEED_PAGE);
            if (BigInt(prunedThrough) > BigInt(at)) throw new Error('feed pruned during the build');
            for (const c of changes) {
              applyTo(g, c.scope, c.hashes, c.cidr4, c.cidr6);
              at = c.seq;
            }
            if (changes.length < FEED_PAGE) break;
          }
          this.current = g;
          this.building = null;
          this.seq = at;
          this.headSeq = at;
          this.caughtUpAt = Date.now();
          this.rebuilds.inc({ reason });
          this.builds.succeeded();
          this.logger.log(
            { reason, keys: g.keys.size, bytes: g.keys.bytes, ms: Date.now() - started },
            'search key index built',
          );
          this.releaseReadiness();
          return;
        } catch (err) {
          this.building = null;
          this.builds.failed(err, { reason });
          await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
        }
      }
    })().finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  /** Adds one tenant's indicators to a generation being built, private and shared apart. */
  private async scanTenant(g: Generation, tenant: string): Promise<void> {
    const scopes = [tenant, keyScope(tenant, 'descendants')];
    const seeds = scopes.map(scopeSeed);
    await this.feed.scan(SCAN_PAGE, (types, values, shared) => {
      for (let i = 0; i < types.length; i++) {
        const k = shared[i] ? 1 : 0;
        g.keys.add(types[i], values[i], seeds[k]);
        const lengths = lengthsOf(g, scopes[k]);
        if (types[i] === 'cidr') {
          const v = values[i];
          const len = Number(v.slice(v.lastIndexOf('/') + 1));
          (v.includes(':') ? lengths.cidr6 : lengths.cidr4)[len] = 1;
        }
      }
    });
  }

  /** Indicators stored in every tenant: the index holds at most these many live keys. */
  private async indicatorCount(): Promise<number> {
    const counts = await this.tenants.forEach(
      () => this.feed.indicatorCount(),
      (err) => {
        throw err;
      },
    );
    return [...counts.values()].reduce((a, b) => a + b, 0);
  }

  /** Prunes the feed and rebuilds once dead keys pass the threshold. */
  private async tidy(): Promise<void> {
    if (this.stopped || !this.current || this.rebuilding) return;
    try {
      await this.feed.prune(FEED_RETENTION_MINUTES);
      const live = await this.indicatorCount();
      const held = this.current.keys.size;
      if (held > 10_000 && held - live > held * DEAD_KEY_SHARE) void this.rebuild('dead_keys');
    } catch (err) {
      this.logger.warn({ err }, 'search key index housekeeping failed');
    }
  }

  /**
   * LISTENs for feed commits on a connection of its own; when it is lost, reconnects and reads
   * the feed (polling has kept it current meanwhile — the feed is complete, nothing is lost).
   */
  private async listen(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const client = new Client({ connectionString: this.config.env.DATABASE_URL });
      try {
        await client.connect();
        const lost = new Promise<void>((done) => {
          client.once('error', () => done());
          client.once('end', () => done());
        });
        client.on('notification', () => this.wake());
        await client.query(`LISTEN ${FEED_CHANNEL}`);
        this.listener = client;
        this.listens.succeeded();
        attempt = 0;
        this.wake();
        await lost;
      } catch (err) {
        if (!this.stopped) this.listens.failed(err);
      }
      if (this.listener === client) this.listener = null;
      await client.end().catch((err: Error) => {
        // The session is dropped and a new one opened; the first of a run of failures is told.
        if (attempt === 0)
          this.logger.debug(
            `broken search key index LISTEN session did not end cleanly: ${err.message}`,
          );
      });
      if (this.stopped) return;
      this.wake();
      await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** attempt)));
    }
  }
}
