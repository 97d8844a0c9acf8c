import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { lastAddressSql, type IndicatorType } from '../indicators';
import { prepare, Sql } from '../database/sql';
import { inView, requireTenant } from '../database/tenant-context';
import { FALSE_POSITIVE_SUPPLIER } from '../suppliers/built-in-suppliers';
import { tagsJsonOf } from '../tags/tag-sql';
import { CoalescingLookup } from './coalescing-lookup';
import type { PrefixLengths } from './search-plan';

/** One indicator that a lookup key (or a within-range) hit, with what a result needs. */
export interface MatchRow {
  /** 1-based position of the key (or queried network) in the request's arrays. */
  ord: number;
  type: IndicatorType;
  value: string;
  context: Record<string, unknown>;
  confidence: number | null;
  firstSeen: Date | null;
  lastSeen: Date | null;
  updatedAt: Date;
  supplier: string;
  vendor: string;
  supplierConfidence: number;
  actionableFields: string[];
  falsePositive: boolean;
  tags: Array<{ name: string; weight: number }>;
  /** The owner tenant's name when the supplier is an ancestor's shared one, else null. */
  sharedBy: string | null;
}

const ACTIVE = `s.status = 'enabled' AND (i.effective_expires_at IS NULL OR i.effective_expires_at > now())`;

const MATCH_COLUMNS = `i.type, i.value, i.context, i.confidence, i.first_seen AS "firstSeen",
  i.last_seen AS "lastSeen", i.updated_at AS "updatedAt", s.name AS supplier, s.vendor,
  s.confidence AS "supplierConfidence", s.actionable_fields AS "actionableFields",
  (s.built_in AND s.name = '${FALSE_POSITIVE_SUPPLIER}') AS "falsePositive",
  ${tagsJsonOf('i')} AS tags, NULL::text AS "sharedBy"`;

/**
 * The same, reading the searching tenant's (`$3`) own rows and its ancestors' shared ones (the
 * `shared` view: row-level security admits only subscribed suppliers): a shared row carries
 * its owner's name and this tenant's actionable fields for it, when it set its own.
 */
const SHARED_MATCH_COLUMNS = `i.type, i.value, i.context, i.confidence, i.first_seen AS "firstSeen",
  i.last_seen AS "lastSeen", i.updated_at AS "updatedAt", s.name AS supplier, s.vendor,
  s.confidence AS "supplierConfidence",
  CASE WHEN i.tenant_id = $3::uuid THEN s.actionable_fields
       ELSE coalesce((SELECT sub.actionable_fields FROM supplier_subscriptions sub
                       WHERE sub.tenant_id = $3::uuid AND sub.supplier_id = s.id), s.actionable_fields)
  END AS "actionableFields",
  (s.built_in AND s.name = '${FALSE_POSITIVE_SUPPLIER}' AND s.tenant_id = $3::uuid) AS "falsePositive",
  ${tagsJsonOf('i')} AS tags,
  CASE WHEN i.tenant_id = $3::uuid THEN NULL
       ELSE (SELECT t.name FROM tenants t WHERE t.id = i.tenant_id) END AS "sharedBy"`;

/** @internal exported for tests */
export const PREFIX_LENGTHS = prepare<{ f: number; l: number }>(
  'search_prefix_lengths',
  `
      WITH RECURSIVE v4 AS (
          SELECT min(prefix_len) AS l FROM indicators
           WHERE tenant_id = $1 AND type = 'cidr' AND family(network) = 4
        UNION ALL
          SELECT (SELECT min(prefix_len) FROM indicators
                   WHERE tenant_id = $1 AND type = 'cidr' AND family(network) = 4 AND prefix_len > v4.l)
            FROM v4 WHERE v4.l IS NOT NULL
      ), v6 AS (
          SELECT min(prefix_len) AS l FROM indicators
           WHERE tenant_id = $1 AND type = 'cidr' AND family(network) = 6
        UNION ALL
          SELECT (SELECT min(prefix_len) FROM indicators
                   WHERE tenant_id = $1 AND type = 'cidr' AND family(network) = 6 AND prefix_len > v6.l)
            FROM v6 WHERE v6.l IS NOT NULL
      )
      SELECT 4 AS f, l FROM v4 WHERE l IS NOT NULL
      UNION ALL SELECT 6 AS f, l FROM v6 WHERE l IS NOT NULL`,
);

/*
 * One index probe per key, always: as a plain join, a custom plan for tens of thousands of
 * keys (what a prepared statement gets for its first five runs on each connection) hashes
 * the whole indicators table instead, ~10x slower. OFFSET 0 keeps the subquery from being
 * flattened into such a join.
 */
const BY_KEYS = prepare<MatchRow>(
  'search_by_keys',
  `SELECT k.ord::int AS ord, m.*
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(value, type, ord)
     CROSS JOIN LATERAL (
       SELECT ${MATCH_COLUMNS}
         FROM indicators i JOIN suppliers s ON s.id = i.supplier_id
        WHERE i.value = k.value AND i.type = k.type AND ${ACTIVE}
       OFFSET 0) m`,
);

/** BY_KEYS over the tenants `$4` (the searching one, `$3`, and ancestors that share). */
const BY_KEYS_SHARED = prepare<MatchRow>(
  'search_by_keys_shared',
  `SELECT k.ord::int AS ord, m.*
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(value, type, ord)
     CROSS JOIN LATERAL (
       SELECT ${SHARED_MATCH_COLUMNS}
         FROM indicators i JOIN suppliers s ON s.tenant_id = i.tenant_id AND s.id = i.supplier_id
        WHERE i.tenant_id = ANY ($4::uuid[]) AND i.value = k.value AND i.type = k.type AND ${ACTIVE}
       OFFSET 0) m`,
);

/**
 * Active ip/cidr indicators strictly inside each network of `$1`, at most `$2` per network, in
 * the tenant `$3` alone or (`shared`) in the tenants `$4`. False positives never match `within`
 * (docs/api.md §5). The networks inside `q` are the index range from `q` to its last address,
 * computed once per network (see lastAddressSql: inline, it would not bound the scan under
 * row-level security); `<<` is the exact test. With shared tenants, each tenant (an equality,
 * as its index wants) gives its first `$2`, and those are merged.
 *
 * @internal exported for tests
 */
export const withinSql = (shared: boolean): string => {
  const inTenant = (tenant: string) => `
       SELECT ${shared ? SHARED_MATCH_COLUMNS : MATCH_COLUMNS}, i.network
         FROM indicators i JOIN suppliers s ON s.tenant_id = i.tenant_id AND s.id = i.supplier_id
        WHERE i.tenant_id = ${tenant} AND i.network > q.net AND i.network <= q.last
          AND i.network << q.net
          AND ${ACTIVE} AND NOT (s.built_in AND s.name = '${FALSE_POSITIVE_SUPPLIER}')
        ORDER BY i.network
        LIMIT $2`;
  return `WITH q AS MATERIALIZED (
     SELECT net, ord, ${lastAddressSql('net')} AS last
       FROM unnest($1::cidr[]) WITH ORDINALITY AS u(net, ord))
   SELECT q.ord::int AS ord, m.*
     FROM q CROSS JOIN LATERAL (${
       shared
         ? `SELECT w.* FROM unnest($4::uuid[]) AS t(id) CROSS JOIN LATERAL (${inTenant('t.id')}) w
             ORDER BY w.network LIMIT $2`
         : inTenant('$3::uuid')
     }) m`;
};

/**
 * Lookups with up to this many keys may be merged (a single search plans at most a few dozen
 * keys); larger ones, bulk searches, run on their own.
 */
const MAX_MERGED_KEYS = 1_000;

/** The search hot path's SQL: a fixed, small number of set-based queries per request. */
@Injectable()
export class SearchRepository {
  private readonly byKeys: CoalescingLookup<MatchRow>;

  constructor(
    private readonly sql: Sql,
    @Inject(AppConfig) config: AppConfig,
  ) {
    this.byKeys = new CoalescingLookup<MatchRow>(
      (values, types, tenants) =>
        tenants.length === 1
          ? this.sql.prepared(BY_KEYS, [values, types])
          : inView('shared', () =>
              this.sql.prepared(BY_KEYS_SHARED, [values, types, requireTenant(), tenants]),
            ),
      config.env.SEARCH_LOOKUP_CONCURRENCY,
      MAX_MERGED_KEYS,
    );
  }

  /**
   * Distinct prefix lengths of CIDR indicators per family, by a loose index scan over
   * indicators_cidr4_prefix_idx and indicators_cidr6_prefix_idx (one index probe per length
   * present, not a table scan).
   */
  async prefixLengths(tenants: readonly string[]): Promise<PrefixLengths> {
    const present = { 4: new Set<number>(), 6: new Set<number>() };
    for (const tenant of tenants) {
      const rows = await this.readShared(tenants, () =>
        this.sql.prepared(PREFIX_LENGTHS, [tenant]),
      );
      for (const r of rows) present[Number(r.f) as 4 | 6].add(Number(r.l));
    }
    return {
      4: [...present[4]].sort((a, b) => a - b),
      6: [...present[6]].sort((a, b) => a - b),
    };
  }

  /** Runs `read` in the shared view when the search reads more tenants than its own. */
  private readShared<T>(tenants: readonly string[], read: () => Promise<T>): Promise<T> {
    return tenants.length === 1 ? read() : inView('shared', read);
  }

  /**
   * Active indicators equal to any of the keys (`values[k]`, `types[k]`), by the (value, type)
   * index, in `tenants` (the searching tenant first, then ancestors whose shared suppliers it
   * may have subscribed to). Concurrent small lookups share one query (CoalescingLookup).
   */
  findByKeys(values: string[], types: string[], tenants: readonly string[]): Promise<MatchRow[]> {
    if (values.length === 0) return Promise.resolve([]);
    return this.byKeys.run(values, types, tenants);
  }

  /** Active ip/cidr indicators inside each of `networks`, at most `limit` each (withinSql). */
  findWithin(networks: string[], limit: number, tenants: readonly string[]): Promise<MatchRow[]> {
    if (networks.length === 0) return Promise.resolve([]);
    const shared = tenants.length > 1;
    return this.readShared(tenants, () =>
      this.sql.rows<MatchRow>(
        withinSql(shared),
        shared ? [networks, limit, requireTenant(), tenants] : [networks, limit, tenants[0]],
      ),
    );
  }
}
