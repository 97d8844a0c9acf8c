import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a statement is run for, which sets how long it may wait (docs/operations in README,
 * "Database waits"): `request` — the request path, short bounds; `long` — uploads, exports and
 * background work (sweeps, flushes, feed runs, index builds, migrations), longer ones.
 */
export type DatabaseWork = 'request' | 'long';

const work = new AsyncLocalStorage<DatabaseWork>();

/** Runs `fn` (and everything it starts) as request-path work. */
export function asRequestWork<T>(fn: () => T): T {
  return work.run('request', fn);
}

/** Runs `fn` (and everything it starts) as long work, inside a request or not. */
export function asLongWork<T>(fn: () => T): T {
  return work.run('long', fn);
}

/** The kind of the work running now; outside any request it is background work, so long. */
export function currentWork(): DatabaseWork {
  return work.getStore() ?? 'long';
}
