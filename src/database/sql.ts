import type { Pool, QueryResult } from 'pg';
import type {
  DataSource,
  EntityManager,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

/**
 * A hot-path statement Postgres plans once per connection instead of on every call (planning
 * costs more than executing the search lookups). `R` is the row it returns.
 */
export interface PreparedStatement<R> {
  readonly name: string;
  readonly text: string;
  /** Type-only: carries the row type from `prepare` to `Sql.prepared`. */
  readonly row?: R;
}

export function prepare<R>(name: string, text: string): PreparedStatement<R> {
  return { name, text };
}

/** Work waiting for a transaction to commit, by the transaction's runner. */
const afterCommit = new WeakMap<QueryRunner, Array<() => void>>();

/** Runs a transaction's after-commit work once its outermost level commits; drops it on rollback. */
class CommitHooks implements EntitySubscriberInterface {
  afterTransactionCommit({ queryRunner }: TransactionCommitEvent): void {
    if (queryRunner.isTransactionActive) return;
    const hooks = afterCommit.get(queryRunner);
    afterCommit.delete(queryRunner);
    for (const hook of hooks ?? []) hook();
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    if (!queryRunner.isTransactionActive) afterCommit.delete(queryRunner);
  }
}

/**
 * The one way repositories run SQL: on the pool, or — through `in(tx)` — on the transaction a
 * service opened. Rows come back whatever the statement (`EntityManager.query` answers
 * UPDATE/DELETE … RETURNING with `[rows, count]`, and only when the driver reports the command,
 * which differs between node-postgres and the embedded driver for `WITH …`).
 */
export class Sql {
  private constructor(
    private readonly db: DataSource,
    private readonly tx: EntityManager | undefined,
    /** The node-postgres pool; undefined on the embedded database (one in-process backend). */
    private readonly pool: Pool | undefined,
    /** Runs after the commit of every statement run through this helper (`followedBy`). */
    private readonly hook?: () => void,
  ) {}

  /** Over `db`, whose node-postgres pool (ServerPool) is `pool`; none on the embedded database. */
  static over(db: DataSource, pool: Pool | undefined): Sql {
    if (!db.subscribers.some((s) => s instanceof CommitHooks))
      db.subscribers.push(new CommitHooks());
    return new Sql(db, undefined, pool);
  }

  /** The same helper bound to a transaction's manager (or the pool when `tx` is undefined). */
  in(tx: EntityManager | undefined): Sql {
    return tx === undefined || tx === this.tx ? this : new Sql(this.db, tx, this.pool, this.hook);
  }

  /**
   * The same helper, but every statement it runs is followed by `hook` once its transaction
   * commits: for a repository whose writes a cache must follow (it writes through this one).
   */
  followedBy(hook: () => void): Sql {
    return new Sql(this.db, this.tx, this.pool, hook);
  }

  async rows<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.run(text, params)).records as T[];
  }

  /** The first row, or undefined when there is none. */
  async one<T>(text: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.rows<T>(text, params))[0];
  }

  /** Runs a statement for its effect; returns the number of rows it affected. */
  async exec(text: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.run(text, params)).affected ?? 0;
  }

  /**
   * Runs a named prepared statement. Array parameters may be pre-encoded (`pgArray`), so a
   * caller can build the next batch's parameters while the previous statement runs. On the
   * embedded database it runs as an ordinary query.
   */
  async prepared<R>(stmt: PreparedStatement<R>, params: readonly unknown[]): Promise<R[]> {
    if (this.pool === undefined) return this.rows<R>(stmt.text, params);
    const config = { name: stmt.name, text: stmt.text, values: params as unknown[] };
    const runner = this.tx?.queryRunner;
    const res: QueryResult =
      runner && !runner.isReleased
        ? await ((await runner.connect()) as Pool).query(config)
        : await this.pool.query(config);
    if (this.hook) this.afterCommit(this.hook);
    return res.rows as R[];
  }

  /**
   * Runs `hook` once the transaction this helper is bound to has committed (at once when it is
   * bound to none), and never after a rollback: for caches that must follow a write. The same
   * hook queued twice in one transaction runs once.
   */
  afterCommit(hook: () => void): void {
    const runner = this.tx?.queryRunner;
    if (!runner || runner.isReleased || !runner.isTransactionActive) return hook();
    const hooks = afterCommit.get(runner);
    if (hooks) {
      if (!hooks.includes(hook)) hooks.push(hook);
    } else afterCommit.set(runner, [hook]);
  }

  private async run(
    text: string,
    params: readonly unknown[],
  ): Promise<{ records: unknown[]; affected?: number }> {
    const runner = this.tx?.queryRunner;
    let result: { records: unknown[]; affected?: number };
    if (runner && !runner.isReleased) {
      result = await runner.query(text, params as unknown[], true);
    } else {
      const own = this.db.createQueryRunner();
      try {
        result = await own.query(text, params as unknown[], true);
      } finally {
        await own.release();
      }
    }
    if (this.hook) this.afterCommit(this.hook);
    return result;
  }
}
