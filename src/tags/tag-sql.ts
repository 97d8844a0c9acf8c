/**
 * SQL fragments for statements of other modules that must read an indicator's tags in the
 * same statement (search is the hot path: one round trip per lookup). They live here so the
 * `tags` table is spelled out in one module only.
 */

/*
 * `i` is the alias of the indicators row. Its tenant is spelled out: a shared indicator's tags
 * are its owner's, and the keys lead with the tenant (docs/tenancy.md).
 */

/** An indicator's tags as a JSON array of {name, weight}, heaviest first, then by name. */
export function tagsJsonOf(i: string): string {
  return `COALESCE((SELECT json_agg(json_build_object('name', t.name, 'weight', t.weight) ORDER BY t.weight DESC, t.name)
              FROM indicator_tags it JOIN tags t ON t.tenant_id = it.tenant_id AND t.id = it.tag_id
             WHERE it.tenant_id = ${i}.tenant_id AND it.indicator_id = ${i}.id), '[]'::json)`;
}

/** Tag links (`it`) with their tags (`t`), for a statement that groups them itself. */
export const TAG_LINKS = `indicator_tags it JOIN tags t ON t.tenant_id = it.tenant_id AND t.id = it.tag_id`;

/** True when the indicator carries the tag with this id. */
export function hasTag(i: string, tagId: string): string {
  return `EXISTS (SELECT 1 FROM indicator_tags ft
                   WHERE ft.tenant_id = ${i}.tenant_id AND ft.indicator_id = ${i}.id AND ft.tag_id = ${tagId})`;
}
