import { EventEmitter } from 'node:events';
import { PGlite, types } from '@electric-sql/pglite';
import { TenantSession } from './tenant-context';

/**
 * A `pg`-compatible driver module (what TypeORM's postgres dialect loads as `driver`) backed
 * by an embedded PGlite database.
 *
 * PGlite is one single-user backend, so the pool hands out one client lease at a time: a
 * transaction running on one lease can never interleave with statements of another request
 * (typeorm-pglite shares the connection between concurrent transactions, which breaks
 * isolation). Leases are granted in FIFO order.
 */
export interface PgliteDriverModule {
  Pool: new () => PglitePool;
  instance(): Promise<PGlite>;
}

interface PgResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: unknown[];
}

const COMMAND = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/;

function toPgResult(
  sql: string,
  result: { rows: unknown[]; affectedRows?: number; fields: unknown[] },
): PgResult {
  const command = (COMMAND.exec(sql)?.[1] ?? '').toUpperCase();
  return {
    rows: result.rows,
    rowCount: result.affectedRows ?? result.rows.length,
    command,
    fields: result.fields,
  };
}

class PgliteClient extends EventEmitter {
  /** The one backend's role and transaction, as for a server connection (guarded-pg.ts). */
  private readonly tenancy = new TenantSession();

  constructor(private readonly db: () => Promise<PGlite>) {
    super();
  }

  async query(sql: string, params?: unknown[]): Promise<PgResult> {
    const db = await this.db();
    const plan = this.tenancy.plan(sql);
    if (plan.role !== undefined) {
      await db.exec(plan.role);
      this.tenancy.roleSwitched();
    }
    if (plan.before !== undefined) await db.exec(plan.before);
    let result: PgResult;
    try {
      result = await this.run(db, plan.text ?? sql, params);
    } catch (err) {
      if (plan.wrapped) await db.exec('ROLLBACK');
      throw err;
    }
    if (plan.wrapped) await db.exec('COMMIT');
    return result;
  }

  private async run(db: PGlite, sql: string, params?: unknown[]): Promise<PgResult> {
    if (params && params.length > 0) {
      return toPgResult(sql, await db.query(sql, params));
    }
    const results = await db.exec(sql);
    const last = results[results.length - 1] ?? { rows: [], fields: [] };
    return toPgResult(sql, last);
  }
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const granted = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return granted;
  }
}

export class PglitePool extends EventEmitter {
  private static dataDir: string | undefined;
  private static db: Promise<PGlite> | undefined;
  private static readonly mutex = new Mutex();

  static configure(dataDir: string | undefined): void {
    PglitePool.dataDir = dataDir;
  }

  static instance(): Promise<PGlite> {
    PglitePool.db ??= PGlite.create({
      dataDir: PglitePool.dataDir,
      // Match node-postgres: booleans as TRUE/FALSE, timestamps/json parsed by PGlite itself.
      serializers: { [types.BOOL]: (v: unknown) => (v ? 'TRUE' : 'FALSE') },
    });
    return PglitePool.db;
  }

  static async close(): Promise<void> {
    const db = PglitePool.db;
    PglitePool.db = undefined;
    if (db) await (await db).close();
  }

  private readonly client = new PgliteClient(() => PglitePool.instance());

  connect(
    callback: (
      err: Error | null,
      client: PgliteClient | null,
      release: (err?: unknown) => void,
    ) => void,
  ): void {
    PglitePool.mutex
      .acquire()
      .then(async (release) => {
        await PglitePool.instance();
        let released = false;
        callback(null, this.client, () => {
          if (!released) {
            released = true;
            release();
          }
        });
      })
      .catch((err: Error) => callback(err, null, () => undefined));
  }

  async query(sql: string, params?: unknown[]): Promise<PgResult> {
    const release = await PglitePool.mutex.acquire();
    try {
      return await this.client.query(sql, params);
    } finally {
      release();
    }
  }

  end(callback?: (err: Error | null) => void): void {
    PglitePool.close().then(
      () => callback?.(null),
      (err: Error) => callback?.(err),
    );
  }
}

export const pgliteDriver: PgliteDriverModule = {
  Pool: PglitePool,
  instance: () => PglitePool.instance(),
};
