import { DataSource } from 'typeorm';

interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Hot-path queries as named prepared statements: Postgres plans them once per connection
 * instead of on every call (planning costs more than executing the search lookups). On the
 * embedded database (one in-process backend) they run as ordinary queries.
 */
export class PreparedQuery<R> {
  constructor(
    private readonly name: string,
    private readonly text: string,
  ) {}

  async run(db: DataSource, values: unknown[]): Promise<R[]> {
    const pool = (db.driver as unknown as { master?: unknown }).master;
    if (pool && typeof (pool as { totalCount?: unknown }).totalCount === 'number') {
      const res = await (pool as PgPool).query({ name: this.name, text: this.text, values });
      return res.rows as R[];
    }
    return db.query(this.text, values);
  }
}
