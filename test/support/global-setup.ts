import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from '../../src/database/data-source';
import { migrations } from '../../src/database/migrations';
import { EmbeddedPostgres, isAlive, startEmbeddedPostgres } from './embedded-postgres';

/**
 * This run's own Postgres server (DATABASE_URL unset), for global-teardown.ts to stop: Jest
 * shares globals, not module state, between its global setup and teardown.
 */
export const embeddedServer = globalThis as { __indiciumEmbeddedPostgres?: EmbeddedPostgres };

/**
 * Makes sure the run has a Postgres server: DATABASE_URL's, or else one started for this run
 * (embedded-postgres.ts), whose URL becomes DATABASE_URL for every test file. Then builds one
 * migrated template database; every test file gets a fresh database cloned from it
 * (CREATE DATABASE … TEMPLATE), which is fast.
 */
export default async function globalSetup(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    const server = await startEmbeddedPostgres();
    embeddedServer.__indiciumEmbeddedPostgres = server;
    process.env.DATABASE_URL = server.url;
  }
  const url = process.env.DATABASE_URL;
  const template = `indicium_tpl_${process.pid}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    // Leftovers of earlier runs that died before their teardown (their process is gone).
    const leftovers: Array<{ datname: string }> = (
      await admin.query(`SELECT datname FROM pg_database WHERE datname ~ '^indicium_tp?l?_[0-9]+'`)
    ).rows;
    for (const { datname } of leftovers) {
      const pid = Number(/^indicium_t(?:pl)?_(\d+)/.exec(datname)?.[1]);
      if (pid !== process.pid && !isAlive(pid)) {
        await admin
          .query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`)
          .catch(() => undefined);
      }
    }
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${template}"`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${template}`;
  const ds = await new DataSource({
    type: 'postgres',
    url: target.toString(),
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
  }).initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  process.env.INDICIUM_TEST_TEMPLATE = template;
}
