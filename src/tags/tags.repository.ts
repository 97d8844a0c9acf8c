import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../suppliers/sql-rows';

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
  constructor(private readonly db: DataSource) {}

  listAfter(after: string | null, limit: number): Promise<TagRow[]> {
    return queryRows(
      this.db.manager,
      `SELECT ${COLUMNS} FROM tags t WHERE ($1::text IS NULL OR t.name > $1) ORDER BY t.name LIMIT $2`,
      [after, limit],
    );
  }

  /** Case-insensitive (names are stored uppercase). */
  async findByName(
    name: string,
    manager: EntityManager = this.db.manager,
    lock = false,
  ): Promise<TagRow | null> {
    const rows = await queryRows<TagRow>(
      manager,
      `SELECT ${COLUMNS} FROM tags t WHERE t.name = upper($1)${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    return rows[0] ?? null;
  }

  async insert(manager: EntityManager, t: TagFields): Promise<TagRow> {
    const [row] = await queryRows<{ id: string }>(
      manager,
      `INSERT INTO tags (name, weight, description, color) VALUES ($1, $2, $3, $4) RETURNING id`,
      [t.name, t.weight, t.description, t.color],
    );
    return (await this.findById(manager, row.id))!;
  }

  async update(manager: EntityManager, id: string, t: TagFields): Promise<TagRow> {
    await queryRows(
      manager,
      `UPDATE tags SET name = $2, weight = $3, description = $4, color = $5, updated_at = now()
       WHERE id = $1`,
      [id, t.name, t.weight, t.description, t.color],
    );
    return (await this.findById(manager, id))!;
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await queryRows(manager, `DELETE FROM tags WHERE id = $1`, [id]);
  }

  /** Adds the tag to these indicators (already tagged ones stay as they are). */
  async assign(manager: EntityManager, tagId: string, indicatorIds: string[]): Promise<void> {
    await queryRows(
      manager,
      `INSERT INTO indicator_tags (indicator_id, tag_id)
       SELECT i, $1 FROM unnest($2::uuid[]) AS i ON CONFLICT DO NOTHING`,
      [tagId, indicatorIds],
    );
  }

  async unassign(manager: EntityManager, tagId: string, indicatorIds: string[]): Promise<void> {
    await queryRows(
      manager,
      `DELETE FROM indicator_tags WHERE tag_id = $1 AND indicator_id = ANY ($2::uuid[])`,
      [tagId, indicatorIds],
    );
  }

  private async findById(manager: EntityManager, id: string): Promise<TagRow | null> {
    const rows = await queryRows<TagRow>(manager, `SELECT ${COLUMNS} FROM tags t WHERE t.id = $1`, [
      id,
    ]);
    return rows[0] ?? null;
  }
}
