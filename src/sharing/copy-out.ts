import { Injectable, Logger } from '@nestjs/common';
import { Client, escapeLiteral, type ClientConfig, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ServerPool } from '../database/server-pool';
import {
  asSchemaOwner,
  ownConnectionSetup,
  requireTenant,
  type View,
} from '../database/tenant-context';
import { CopyOutStream } from './copy-lines';

const logger = new Logger('CopyOut');

/** Closes a COPY connection; a failure is logged only: the connection is dropped either way. */
function close(client: Client | undefined, when: string): Promise<void> {
  return (client?.end() ?? Promise.resolve()).catch((err: unknown) =>
    logger.debug({ err }, `closing the COPY connection ${when} failed; it is dropped`),
  );
}

/**
 * A body whose bytes Postgres produces: `COPY (SELECT <one text column>) TO STDOUT` piped to
 * the response as it arrives. `abort` cancels the statement (the client went away).
 */
export interface CopyBody extends AsyncIterable<Buffer | string> {
  abort(): void;
}

/** SQL text literal (standard-conforming strings or E'' when it holds a backslash). */
export const lit = (s: string): string => escapeLiteral(s);
/** SQL array literal of text values, cast to `type` (`text`, `uuid`, `cidr`). */
export const litArray = (values: readonly string[], type: string): string =>
  values.length === 0 ? `'{}'::${type}[]` : `ARRAY[${values.map(lit).join(',')}]::${type}[]`;

/**
 * Streams query results as final bytes straight from Postgres (docs/api.md §10 exports and
 * blocklist): Node parses no row and builds no string, it only moves buffers from one socket
 * to the other, with backpressure — when the HTTP client reads slowly the response stops
 * asking for data, the COPY stream stops reading its socket and Postgres blocks on send.
 *
 * Each body runs on its own connection (not one of the pool's: a download lasts as long as the
 * client reads, and must not starve the API), opened with the pool's settings. There are at
 * most as many of them as the pool has connections (DATABASE_POOL_SIZE): a body that starts
 * while all are streaming is served by its caller's keyset path instead, on the pool, so
 * concurrent downloads cannot exhaust the database's connections. A client that disconnects
 * cancels the statement (pg_cancel_backend from the pool, which also interrupts a sort still
 * running before the first row) and closes that connection.
 *
 * Only on a Postgres server: the embedded PGlite has no socket to COPY over; callers keep
 * their keyset path for it (`available` is false).
 */
@Injectable()
export class CopyOut {
  private readonly pool: Pool | undefined;
  /** COPY connections open now, and the most there may be. */
  private open = 0;
  readonly connections: number;

  constructor(
    private readonly db: DataSource,
    private readonly pools: ServerPool,
  ) {
    this.pool = pools.pool;
    this.connections = Math.max(1, pools.config?.max ?? 10);
  }

  get available(): boolean {
    return this.pool !== undefined;
  }

  /**
   * `select` returns one text column per row; each row is written followed by "\n". When every
   * COPY connection is in use as the body starts, `fallback` (the same bytes, produced another
   * way) is streamed instead. `view`: which other tenants' shared rows the statement reads.
   */
  lines(select: string, fallback: () => AsyncIterable<string>, view: View = 'own'): CopyBody {
    if (!this.pool) throw new Error('COPY needs a Postgres server');
    const config: ClientConfig = this.pools.config!;
    // Its own connection: the role and the tenant are set on it explicitly (RLS applies).
    const setup = ownConnectionSetup(requireTenant(), view);
    const copy = new CopyRun(this.db, config, setup, `COPY (${select}) TO STDOUT (FORMAT binary)`);
    const it = this.body(copy, fallback);
    return { [Symbol.asyncIterator]: () => it, abort: () => copy.abort() };
  }

  /** The COPY's bytes on a connection of its own, or `fallback` when all are in use. */
  private async *body(
    copy: CopyRun,
    fallback: () => AsyncIterable<string>,
  ): AsyncGenerator<Buffer | string> {
    if (this.open >= this.connections) {
      yield* fallback();
      return;
    }
    this.open++;
    try {
      yield* copy.bytes();
    } finally {
      this.open--;
    }
  }
}

/** One COPY on its own connection; `abort` cancels it, before or while it streams. */
class CopyRun {
  private pid: number | undefined;
  private finished = false;
  private aborted = false;
  private client: Client | undefined;
  private stream: CopyOutStream | undefined;

  constructor(
    private readonly db: DataSource,
    private readonly config: ClientConfig,
    private readonly setup: readonly string[],
    private readonly copy: string,
  ) {}

  abort(): void {
    this.aborted = true;
    this.cancel();
  }

  async *bytes(): AsyncGenerator<Buffer> {
    const client = (this.client = new Client(this.config));
    client.on('error', () => undefined); // a cancelled or closed connection; handled below
    await client.connect();
    this.pid = (client as unknown as { processID: number }).processID;
    try {
      if (this.aborted) return;
      for (const statement of this.setup) await client.query(statement);
      this.stream = client.query(new CopyOutStream(this.copy));
      for await (const chunk of this.stream as AsyncIterable<Buffer>) yield chunk;
      this.finished = true;
    } finally {
      if (this.finished && !this.aborted) await close(client, 'after a complete COPY');
      else this.cancel();
    }
  }

  private cancel(): void {
    if (this.finished || this.pid === undefined) return;
    this.finished = true;
    // As the login role: the application role may not signal a session that logged in as another.
    const pid = this.pid;
    void asSchemaOwner(() => this.db.query('SELECT pg_cancel_backend($1)', [pid]))
      .catch((err: unknown) =>
        // The connection is closed next, which ends the COPY on the server anyway.
        logger.debug({ err }, 'cancelling an abandoned COPY failed; closing its connection'),
      )
      .finally(() => {
        this.stream?.destroy();
        void close(this.client, 'after a cancel');
      });
  }
}
