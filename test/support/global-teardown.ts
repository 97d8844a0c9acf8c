import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { serverBuildDir } from './server-process';

/** Drops this run's template database (see global-setup.ts) and its server build, if any. */
export default async function globalTeardown(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const template = process.env.INDICIUM_TEST_TEMPLATE;
  if (!url || !template) return;
  rmSync(serverBuildDir(template), { recursive: true, force: true });
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
