import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Sql } from '../database/sql';

export interface TagRow {
  id: string;
  name: string;
  weight: number;
  description: string;
  color: string | null;
  indicatorCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export type TagFields = Pick<TagRow, 'name' | 'weight' | 'description' | 'color'>;

// The count reads the (tag_id, indicator_id) index of the join table.
const COLUMNS = `t.id, t.name, t.weight, t.description, t.color,
  (SELECT count(*) FROM indicator_tags it WHERE it.tag_id = t.id)::float8 AS "indicatorCount",
  t.created_at AS "createdAt", t.updated_at AS "updatedAt"`;

@Injectable()
export class TagsRepository {
  constructor(private readonly sql: Sql) {}

  listAfter(after: string | null, limit: number): Promise<TagRow[]> {
    return this.sql.rows(
      `SELECT ${COLUMNS} FROM tags t WHERE ($1::text IS NULL OR t.name > $1) ORDER BY t.name LIMIT $2`,
      [after, limit],
    );
  }

  /** Case-insensitive (names are stored uppercase); `lock` takes the row for an update. */
  async findByName(name: string, manager?: EntityManager, lock = false): Promise<TagRow | null> {
    const rows = await this.sql
      .in(manager)
      .rows<TagRow>(
        `SELECT ${COLUMNS} FROM tags t WHERE t.name = upper($1)${lock ? ' FOR UPDATE' : ''}`,
        [name],
      );
    return rows[0] ?? null;
  }

  async insert(manager: EntityManager, t: TagFields): Promise<TagRow> {
    const [row] = await this.sql
      .in(manager)
      .rows<{ id: string }>(
        `INSERT INTO tags (name, weight, description, color) VALUES ($1, $2, $3, $4) RETURNING id`,
        [t.name, t.weight, t.description, t.color],
      );
    return (await this.findById(manager, row.id))!;
  }

  async update(manager: EntityManager, id: string, t: TagFields): Promise<TagRow> {
    await this.sql.in(manager).rows(
      `UPDATE tags SET name = $2, weight = $3, description = $4, color = $5, updated_at = now()
       WHERE id = $1`,
      [id, t.name, t.weight, t.description, t.color],
    );
    return (await this.findById(manager, id))!;
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await this.sql.in(manager).rows(`DELETE FROM tags WHERE id = $1`, [id]);
  }

  /** Every tag's id by its (uppercase) name, for validating a write's entries. */
  async idsByName(): Promise<Map<string, string>> {
    const rows = await this.sql.rows<{ id: string; name: string }>(`SELECT id, name FROM tags`);
    return new Map(rows.map((r) => [r.name, r.id]));
  }

  /**
   * Of these tag ids, the ones that still exist, locked until the transaction ends (KEY SHARE,
   * what an assignment's foreign key check takes anyway): a tag looked up before a write's
   * transaction began cannot be deleted under it.
   */
  async lockForAssignment(manager: EntityManager, ids: string[]): Promise<string[]> {
    const rows = await this.sql
      .in(manager)
      .rows<{ id: string }>(
        `SELECT id FROM tags WHERE id = ANY ($1::uuid[]) ORDER BY id FOR KEY SHARE`,
        [ids],
      );
    return rows.map((r) => r.id);
  }

  private async findById(manager: EntityManager, id: string): Promise<TagRow | null> {
    const rows = await this.sql
      .in(manager)
      .rows<TagRow>(`SELECT ${COLUMNS} FROM tags t WHERE t.id = $1`, [id]);
    return rows[0] ?? null;
  }
}
