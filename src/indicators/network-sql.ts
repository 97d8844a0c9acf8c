/**
 * SQL for the last address of the network `net` (a cidr expression) at full length. In inet's
 * btree order the networks and addresses inside `net` are one range, from `net` to this.
 *
 * Give it its own column (a MATERIALIZED CTE) and compare the indexed column with that column,
 * never with this expression inline: `set_masklen` and `broadcast` are not leakproof, and under
 * row-level security a condition that passes another relation's column through them is checked
 * only after the policy, as a filter, so the index scan would run on to the end of the tenant's
 * range instead of stopping at the network's end.
 */
export const lastAddressSql = (net: string): string =>
  `set_masklen(broadcast(${net}), CASE family(${net}) WHEN 4 THEN 32 ELSE 128 END)::cidr`;
