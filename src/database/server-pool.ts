import type { Pool, PoolConfig } from 'pg';

/**
 * The node-postgres pool TypeORM runs on a Postgres server, handed over by the guarded driver
 * (guarded-pg.ts) as TypeORM creates it, with the settings it was created with; none on the
 * embedded database. For what TypeORM's API does not offer: named prepared statements (Sql)
 * and COPY connections opened with the pool's settings (CopyOut).
 */
export class ServerPool {
  private adopted?: { pool: Pool; config: PoolConfig };

  /** Called once, by the pool itself. */
  adopt(pool: Pool, config: PoolConfig): void {
    if (this.adopted) throw new Error('ServerPool: a second pool for one database module');
    this.adopted = { pool, config };
  }

  /** The pool, once the DataSource is initialized on a Postgres server; else undefined. */
  get pool(): Pool | undefined {
    return this.adopted?.pool;
  }

  /** The pool's settings (connection string, session options, size). */
  get config(): PoolConfig | undefined {
    return this.adopted?.config;
  }
}
