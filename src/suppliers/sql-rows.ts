import type { EntityManager } from 'typeorm';

/**
 * Runs SQL and returns its rows, whatever the statement. (`EntityManager.query` answers
 * UPDATE/DELETE … RETURNING with `[rows, count]`, and only when the driver reports the
 * command — which differs between node-postgres and the embedded driver for `WITH …`.)
 */
export async function queryRows<T>(
  manager: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const runner = manager.queryRunner;
  if (runner && !runner.isReleased) {
    return (await runner.query(sql, params, true)).records as T[];
  }
  const own = manager.connection.createQueryRunner();
  try {
    return (await own.query(sql, params, true)).records as T[];
  } finally {
    await own.release();
  }
}
