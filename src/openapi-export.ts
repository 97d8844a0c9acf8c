import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { buildOpenApiDocument } from './swagger';

/**
 * `npm run openapi`: writes the OpenAPI document that `/docs-json` serves to openapi.json at
 * the repository root. The module graph is built in preview mode, so no provider is
 * instantiated and no database is opened: the document depends only on controllers and
 * DTOs. test/openapi.e2e.spec.ts fails when the committed file differs from the live document.
 */

/** Top-level keys in the order readers expect; every other object has its keys sorted. */
const TOP_LEVEL_ORDER = ['openapi', 'info', 'servers', 'tags', 'security', 'paths', 'components'];

/**
 * A copy with a canonical key order, so the file diffs cleanly. Schema `properties` keep
 * their declaration order (it is the order Swagger UI and generated clients show them in)
 * and examples are data, left as they are.
 */
function canonicalOpenApi(value: unknown, key?: string, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => canonicalOpenApi(v, undefined, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  if (key === 'example' || key === 'examples') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (key !== 'properties') {
    const rank = (k: string): number => {
      const i = depth === 0 ? TOP_LEVEL_ORDER.indexOf(k) : -1;
      return i < 0 ? TOP_LEVEL_ORDER.length : i;
    };
    entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, canonicalOpenApi(v, k, depth + 1)]));
}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(AppConfig.load({})),
    { preview: true, logger: false, abortOnError: false },
  );
  const document = canonicalOpenApi(buildOpenApiDocument(app));
  const target = resolve(__dirname, '..', 'openapi.json');
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`Wrote ${target}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `openapi export failed: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
