import { AsyncResource } from 'node:async_hooks';
import pg, { type ClientConfig, type PoolClient, type PoolConfig, type QueryResult } from 'pg';
import { destroyConnection, type DatabaseGuard } from './database-guard';
import { currentWork, type DatabaseWork } from './database-work';
import type { ServerPool } from './server-pool';
import { TenantSession } from './tenant-context';

type ConnectCallback = (
  err: Error | undefined,
  client: PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;
type QueryCallback = (err: unknown, result?: QueryResult) => void;

/** node-postgres' callback form over a promise: `cb` gets its outcome, or the promise is returned. */
function settleInto(
  result: Promise<QueryResult>,
  cb: QueryCallback | undefined,
): Promise<QueryResult> | undefined {
  if (!cb) return result;
  result.then(
    (res) => cb(undefined, res),
    (err: unknown) => cb(err),
  );
  return undefined;
}

function textOf(config: unknown): string {
  return typeof config === 'string' ? config : ((config as { text?: string }).text ?? '');
}

function withText(config: unknown, text: string): unknown {
  return typeof config === 'string' ? text : { ...(config as object), text };
}

/**
 * node-postgres for TypeORM (its `driver` option) with every wait bounded by `guard`: the
 * pool's connections are GuardedClients, and taking one fails at once while the database is
 * unreachable. Everything else is node-postgres itself.
 */
export function guardedPg(guard: DatabaseGuard, pools?: ServerPool): typeof pg {
  /**
   * A connection whose statements are watched by the guard, and whose session timeouts follow
   * the kind of work that runs on it: sessions start with the request path's (the common
   * case); a statement of another kind first SETs that kind's (one round trip, only on a change).
   */
  class GuardedClient extends pg.Client {
    /** The kind whose timeouts the session has; undefined when a rollback may have undone a SET. */
    private session: DatabaseWork | undefined = 'request';
    /** The role and tenant the session's statements run with (tenant-context.ts). */
    private readonly tenancy = new TenantSession();

    constructor(config?: ClientConfig) {
      super({ ...config, options: guard.sessionOptions('request') });
    }

    // node-postgres' overloads: text or config, values or callback, or a Submittable.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(config: unknown, values?: unknown, callback?: unknown): any {
      if (typeof (config as { submit?: unknown } | null)?.submit === 'function') {
        // Cursors and COPY streams: bounded by the server's statement timeout and keepalive.
        return super.query(config as never, values as never, callback as never);
      }
      const cb = (typeof values === 'function' ? values : callback) as QueryCallback | undefined;
      return settleInto(
        this.guarded(config, typeof values === 'function' ? undefined : values),
        cb,
      );
    }

    private async guarded(config: unknown, values: unknown): Promise<QueryResult> {
      if (guard.unreachable !== undefined) throw guard.refusal();
      const kind = currentWork();
      const settle = guard.watch(() => destroyConnection(this), kind);
      const text = textOf(config);
      const rollback = text.startsWith('ROLLBACK');
      try {
        const plan = this.tenancy.plan(text);
        if (this.session !== kind) {
          await super.query(guard.timeoutsFor(kind));
          this.session = kind;
        }
        if (plan.role !== undefined) {
          await super.query(plan.role);
          this.tenancy.roleSwitched();
        }
        if (plan.before !== undefined) await super.query(plan.before);
        const statement = plan.text === undefined ? config : withText(config, plan.text);
        let res: QueryResult;
        try {
          res = await super.query(statement as string, values as unknown[]);
        } catch (err) {
          if (plan.wrapped) await super.query('ROLLBACK');
          throw err;
        }
        if (plan.wrapped) await super.query('COMMIT');
        settle();
        return res;
      } catch (err) {
        throw settle(err);
      } finally {
        // A rollback undoes a SET made inside the transaction: set it again next time.
        if (rollback) this.session = undefined;
      }
    }
  }

  /** The pool of GuardedClients; while the database is unreachable it hands out none. */
  class GuardedPool extends pg.Pool {
    constructor(options: PoolConfig) {
      super({ ...options, Client: GuardedClient });
      pools?.adopt(this, options);
    }

    /**
     * The pool's own query (prepared statements, src/database/sql.ts): it also fails with its
     * connection's raw 'error' event, sooner than the GuardedClient's answer; classified too.
     */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(config: unknown, values?: unknown, callback?: unknown): any {
      const cb = (typeof values === 'function' ? values : callback) as QueryCallback | undefined;
      const args = typeof values === 'function' ? [config] : [config, values];
      const result = (super.query as (...a: unknown[]) => Promise<QueryResult>)
        .apply(this, args)
        .catch((err: unknown) => {
          throw guard.failed(err);
        });
      return settleInto(result, cb);
    }

    override connect(): Promise<PoolClient>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<PoolClient> | void {
      if (!callback) {
        return new Promise((resolve, reject) =>
          this.connect((err, client) => (err ? reject(err) : resolve(client!))),
        );
      }
      if (guard.unreachable !== undefined) {
        const refusal = guard.refusal();
        process.nextTick(() => callback(refusal, undefined, () => undefined));
        return;
      }
      // A waiting request gets its client when another releases one, inside that other's
      // async context: bound here, the callback runs in its own caller's (its tenant's).
      const own = AsyncResource.bind(callback);
      super.connect((err, client, done) =>
        own(err ? (guard.failed(err) as Error) : undefined, client, done),
      );
    }
  }

  return Object.create(pg, {
    Client: { value: GuardedClient },
    Pool: { value: GuardedPool },
  }) as typeof pg;
}
