import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { migrations } from './migrations';
import { PglitePool, pgliteDriver } from './pglite-pool';

/** Advisory-lock key under which migrations run, so instances starting together take turns. */
const MIGRATION_LOCK_KEY = 7301_2026;
export const MIGRATIONS_TABLE = 'schema_migrations';

export function embeddedDatabaseDir(config: AppConfig): string {
  return join(resolve(config.env.DATA_DIR), 'pgdata');
}

export function buildDataSourceOptions(config: AppConfig): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    synchronize: false,
    migrationsRun: false,
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    logging: false,
  };
  if (config.env.DATABASE_URL !== undefined) {
    return {
      ...common,
      url: config.env.DATABASE_URL,
      extra: {
        max: config.env.DATABASE_POOL_SIZE,
        application_name: 'indicium',
        // JIT compiles any plan the optimiser costs high: a bulk search's lookups, each a
        // few ms of index probes, spent ~300 ms compiling. Our queries are all index-driven.
        // Prepared statements (only the search hot path's, Sql.prepared in src/database/sql.ts)
        // keep their generic plan: their shape is fixed by LATERAL … OFFSET 0, and re-planning
        // each run for its actual arrays cost 0.4 ms of a 0.6 ms single lookup.
        options: '-c jit=off -c plan_cache_mode=force_generic_plan',
      },
    };
  }
  const dir = embeddedDatabaseDir(config);
  mkdirSync(dir, { recursive: true });
  PglitePool.configure(dir);
  return { ...common, driver: pgliteDriver, extra: { max: 1 } };
}

/**
 * Runs pending migrations. On a Postgres server a session advisory lock serialises
 * instances that start at the same time; the embedded database has one process only.
 */
export async function runMigrations(dataSource: DataSource, embedded: boolean): Promise<void> {
  if (embedded) {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await runner.release();
  }
}
