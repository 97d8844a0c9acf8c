import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseGuard, type DatabaseWaits } from './database-guard';
import { guardedPg } from './guarded-pg';
import type { ServerPool } from './server-pool';
import { migrations } from './migrations';
import { PglitePool, pgliteDriver } from './pglite-pool';

/** Advisory-lock key under which migrations run, so instances starting together take turns. */
const MIGRATION_LOCK_KEY = 7301_2026;
/** @internal exported for tests */
export const MIGRATIONS_TABLE = 'schema_migrations';

function embeddedDatabaseDir(config: AppConfig): string {
  return join(resolve(config.env.DATA_DIR), 'pgdata');
}

/**
 * JIT compiles any plan the optimiser costs high: a bulk search's lookups, each a few ms of
 * index probes, spent ~300 ms compiling. Our queries are all index-driven. Prepared statements
 * (only the search hot path's, Sql.prepared in src/database/sql.ts) keep their generic plan:
 * their shape is fixed by LATERAL … OFFSET 0, and re-planning each run for its actual arrays
 * cost 0.4 ms of a 0.6 ms single lookup. The server's TCP keepalive notices a client that
 * vanished (its transaction's locks are released) within about 25 s.
 */
const SESSION_OPTIONS =
  '-c jit=off -c plan_cache_mode=force_generic_plan ' +
  '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3';
/** Our side's TCP keepalive: an idle connection to a host that vanished is noticed. */
const KEEPALIVE_DELAY_MS = 10_000;

function databaseWaits(config: AppConfig): DatabaseWaits {
  const env = config.env;
  return {
    acquireMs: env.DATABASE_ACQUIRE_TIMEOUT_MS,
    request: {
      statementMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      lockMs: env.DATABASE_LOCK_TIMEOUT_MS,
    },
    long: {
      statementMs: env.DATABASE_LONG_STATEMENT_TIMEOUT_MS,
      lockMs: env.DATABASE_LONG_LOCK_TIMEOUT_MS,
    },
  };
}

/** The guard of the Postgres server's pool (on the embedded database it never trips). */
export function databaseGuardFor(config: AppConfig): DatabaseGuard {
  const connection = {
    connectionString: config.env.DATABASE_URL,
    application_name: 'indicium',
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  };
  return new DatabaseGuard(databaseWaits(config), connection, SESSION_OPTIONS);
}

export function buildDataSourceOptions(
  config: AppConfig,
  guard: DatabaseGuard = databaseGuardFor(config),
  pools?: ServerPool,
): DataSourceOptions {
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
      driver: guardedPg(guard, pools),
      extra: {
        max: config.env.DATABASE_POOL_SIZE,
        application_name: 'indicium',
        keepAlive: true,
        keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
        connectionTimeoutMillis: guard.waits.acquireMs,
        // The pool's connections start with the request path's timeouts (guarded-pg.ts); these,
        // the long ones, are for connections made from the pool's settings (COPY exports).
        options: guard.sessionOptions('long'),
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
