import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { embeddedServer } from './global-setup';
import { serverBuildDir } from './server-process';

/**
 * Drops this run's template database (see global-setup.ts) and its server build, then stops
 * the run's own Postgres server if it started one.
 */
export default async function globalTeardown(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const template = process.env.INDICIUM_TEST_TEMPLATE;
  try {
    if (url && template) {
      rmSync(serverBuildDir(template), { recursive: true, force: true });
      const admin = new Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  } finally {
    const server = embeddedServer.__indiciumEmbeddedPostgres;
    embeddedServer.__indiciumEmbeddedPostgres = undefined;
    await server?.stop();
  }
}
