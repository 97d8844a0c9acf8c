/**
 * Read-only SQL over the hit counters for statements of other modules (the exports read them
 * per batch), so `indicator_hits` is spelled out in this module only.
 */

/**
 * Per indicator with id between the parameters `from` and `to` (inclusive) that was ever hit:
 * `id`, the hits summed over principals (`hits`, bigint as text) and the latest hit in epoch
 * milliseconds (`lastHitAt`). One grouped range read of the counters' primary key: a keyset
 * batch is an id range, and a range costs less than matching thousands of ids sent as an
 * array (counters of other indicators in the range come along; callers look up their own).
 * Indicators never hit return no row.
 */
export function hitSumsBetween(from: string, to: string): string {
  return `SELECT h.indicator_id AS id, sum(h.hits)::text AS hits,
                 (extract(epoch FROM max(h.last_hit_at)) * 1000)::float8 AS "lastHitAt"
            FROM indicator_hits h WHERE h.indicator_id BETWEEN ${from}::uuid AND ${to}::uuid
           GROUP BY h.indicator_id`;
}
