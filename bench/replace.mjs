// Replace mode of IndicatorWriter (full-snapshot feeds), in-process against the built app
// (dist/) on a fresh database of the Postgres server at DATABASE_URL: load N indicators, then
// a replace run that keeps 90% of them and brings 10% new ones (so 10% are removed), then an
// upsert run of the same entries (nothing to remove) for comparison: the difference is what
// replace costs on top of writing the entries (the set-based DELETE of untouched rows).
//
// Usage: npm run build && node bench/replace.mjs
// Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_COUNT
// (default 1000000), BENCH_SEED (default 42), BENCH_DIST (another build's dist/, default dist).
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { BENCH_TAGS, generateIndicators } from './dataset.mjs';
import { ADMIN_PASSWORD, DATABASE_URL, fmt } from './support.mjs';

const COUNT = Number(process.env.BENCH_COUNT ?? 1_000_000);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const CHANGED = Math.floor(COUNT / 10);

async function admin(sql) {
  const c = new pg.Client({ connectionString: DATABASE_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function* from(entries) {
  for (const e of entries) yield e;
}

const db = `indicium_bench_${randomBytes(4).toString('hex')}`;
await admin(`CREATE DATABASE "${db}"`);
const url = new URL(DATABASE_URL);
url.pathname = `/${db}`;
Object.assign(process.env, {
  DATABASE_URL: url.toString(),
  TLS: 'off',
  ADMIN_PASSWORD,
  LOG_LEVEL: 'warn',
});

const require = createRequire(import.meta.url);
const dist = resolve(process.env.BENCH_DIST ?? 'dist');
const { createApp } = require(join(dist, 'app.factory.js'));
const { AppConfig } = require(join(dist, 'config/app-config.js'));
const { IndicatorWriter } = require(join(dist, 'suppliers/indicators/indicator-writer.js'));
const { SuppliersService } = require(join(dist, 'suppliers/suppliers.service.js'));
const { TagsService } = require(join(dist, 'tags/tags.service.js'));

const app = await createApp(AppConfig.load());
await app.init();
try {
  const writer = app.get(IndicatorWriter);
  const ctx = {
    actorType: 'anonymous',
    actorId: null,
    actorName: 'bench',
    ip: null,
    userAgent: null,
    requestId: null,
  };
  for (const name of BENCH_TAGS) await app.get(TagsService).create({ name, weight: 3 }, ctx);
  await app.get(SuppliersService).create({ name: 'ReplaceBench', vendor: 'bench' }, ctx);
  const audit = { action: 'feed.run' };
  const run = async (label, mode, entries) => {
    const t0 = performance.now();
    const r = await writer.write({
      supplierName: 'ReplaceBench',
      mode,
      entries: from(entries),
      ctx,
      audit,
    });
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${label.padEnd(9)} ${fmt(entries.length)} entries in ${s.toFixed(1)} s = ${fmt(Math.round(entries.length / s))}/s` +
        ` (created ${fmt(r.created)}, updated ${fmt(r.updated)}, removed ${fmt(r.removed)}, failed ${r.failed.length})`,
    );
    return s;
  };

  console.log(`Generating ${fmt(COUNT)} + ${fmt(CHANGED)} indicators (seed ${SEED})…`);
  const all = [...generateIndicators(COUNT + CHANGED, SEED)];
  const initial = all.slice(0, COUNT);
  const next = all.slice(CHANGED); // the first 10% gone, 10% new at the end
  await run('load', 'upsert', initial);
  const replace = await run('replace', 'replace', next);
  const upsert = await run('upsert', 'upsert', next);
  console.log(`Replace costs ${((replace / upsert - 1) * 100).toFixed(0)}% over the same upsert`);
} finally {
  await app.close();
  await admin(`DROP DATABASE "${db}" WITH (FORCE)`);
}
