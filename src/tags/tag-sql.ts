/**
 * SQL fragments for statements of other modules that must read an indicator's tags in the
 * same statement (search is the hot path: one round trip per lookup). They live here so the
 * `tags` table is spelled out in one module only.
 */

/** An indicator's tags as a JSON array of {name, weight}, heaviest first, then by name. */
export function tagsJsonOf(indicatorId: string): string {
  return `COALESCE((SELECT json_agg(json_build_object('name', t.name, 'weight', t.weight) ORDER BY t.weight DESC, t.name)
              FROM indicator_tags it JOIN tags t ON t.id = it.tag_id
             WHERE it.indicator_id = ${indicatorId}), '[]'::json)`;
}

/** True when the indicator carries the tag with this id. */
export function hasTag(indicatorId: string, tagId: string): string {
  return `EXISTS (SELECT 1 FROM indicator_tags ft WHERE ft.indicator_id = ${indicatorId} AND ft.tag_id = ${tagId})`;
}
