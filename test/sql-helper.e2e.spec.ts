import { DataSource } from 'typeorm';
import { pgArray } from '../src/database/pg-array';
import { prepare, Sql } from '../src/database/sql';
import { asSchemaOwner } from '../src/database/tenant-context';
import { createTestApp, TestApp } from './support/test-app';

/** The query helper on the configured database (server Postgres, or embedded without DATABASE_URL). */
describe('Sql (database query helper)', () => {
  let t: TestApp;
  let sql: Sql;
  let db: DataSource;

  beforeAll(async () => {
    t = await createTestApp();
    sql = t.app.get(Sql);
    db = t.app.get(DataSource);
    // A table of the test's own, made by the schema's owner for the application role.
    await asSchemaOwner(async () => {
      await sql.exec(`CREATE TABLE sql_helper_probe (id int PRIMARY KEY, label text NOT NULL)`);
      await sql.exec(`GRANT ALL ON sql_helper_probe TO indicium_app`);
    });
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await sql.exec(`TRUNCATE sql_helper_probe`);
  });

  it('returns rows for SELECT, INSERT/UPDATE/DELETE … RETURNING and WITH …', async () => {
    const inserted = await sql.rows<{ id: number }>(
      `INSERT INTO sql_helper_probe VALUES (1, 'a'), (2, 'b') RETURNING id`,
    );
    expect(inserted).toEqual([{ id: 1 }, { id: 2 }]);
    const updated = await sql.rows<{ label: string }>(
      `UPDATE sql_helper_probe SET label = upper(label) WHERE id = $1 RETURNING label`,
      [2],
    );
    expect(updated).toEqual([{ label: 'B' }]);
    const viaWith = await sql.rows<{ id: number }>(
      `WITH d AS (DELETE FROM sql_helper_probe WHERE id = $1 RETURNING id) SELECT id FROM d`,
      [1],
    );
    expect(viaWith).toEqual([{ id: 1 }]);
    expect(await sql.one(`SELECT label FROM sql_helper_probe`)).toEqual({ label: 'B' });
    expect(await sql.one(`SELECT label FROM sql_helper_probe WHERE id = 99`)).toBeUndefined();
  });

  it('exec answers the number of rows affected', async () => {
    expect(await sql.exec(`INSERT INTO sql_helper_probe VALUES (1, 'a'), (2, 'b'), (3, 'c')`)).toBe(
      3,
    );
    expect(await sql.exec(`UPDATE sql_helper_probe SET label = 'x' WHERE id > $1`, [1])).toBe(2);
    expect(await sql.exec(`DELETE FROM sql_helper_probe WHERE id = 99`)).toBe(0);
  });

  it('in(tx) runs inside the transaction: its writes are seen there and rolled back with it', async () => {
    await expect(
      db.transaction(async (tx) => {
        await sql.in(tx).exec(`INSERT INTO sql_helper_probe VALUES (1, 'a')`);
        expect(await sql.in(tx).rows(`SELECT id FROM sql_helper_probe`)).toEqual([{ id: 1 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await sql.rows(`SELECT id FROM sql_helper_probe`)).toEqual([]);
    expect(sql.in(undefined)).toBe(sql);
  });

  it('runs prepared statements with pre-encoded array parameters, on the pool and in a transaction', async () => {
    await sql.exec(`INSERT INTO sql_helper_probe VALUES (1, 'a'), (2, 'b,"c"'), (3, 'd')`);
    const byIds = prepare<{ id: number; label: string }>(
      'sql_helper_by_ids',
      `SELECT id, label FROM sql_helper_probe WHERE id = ANY($1::int[]) ORDER BY id`,
    );
    const byLabels = prepare<{ id: number }>(
      'sql_helper_by_labels',
      `SELECT id FROM sql_helper_probe WHERE label = ANY($1::text[]) ORDER BY id`,
    );
    for (let run = 0; run < 2; run++) {
      expect(await sql.prepared(byIds, [pgArray([1, 2])])).toEqual([
        { id: 1, label: 'a' },
        { id: 2, label: 'b,"c"' },
      ]);
    }
    expect(await sql.prepared(byLabels, [pgArray(['b,"c"', 'd'])])).toEqual([{ id: 2 }, { id: 3 }]);
    await db.transaction(async (tx) => {
      await sql.in(tx).exec(`INSERT INTO sql_helper_probe VALUES (4, 'd')`);
      expect(await sql.in(tx).prepared(byLabels, [pgArray(['d'])])).toEqual([{ id: 3 }, { id: 4 }]);
    });
  });

  it('afterCommit runs once the transaction commits, never after a rollback, at once outside one', async () => {
    const ran: string[] = [];
    await db.transaction(async (tx) => {
      await sql.in(tx).exec(`INSERT INTO sql_helper_probe VALUES (1, 'a')`);
      sql.in(tx).afterCommit(() => ran.push('first'));
      sql.in(tx).afterCommit(() => ran.push('second'));
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['first', 'second']);
    await expect(
      db.transaction((tx) => {
        sql.in(tx).afterCommit(() => ran.push('rolled back'));
        return Promise.reject(new Error('roll back'));
      }),
    ).rejects.toThrow('roll back');
    sql.afterCommit(() => ran.push('no transaction'));
    expect(ran).toEqual(['first', 'second', 'no transaction']);
  });

  it('followedBy runs its hook after the commit of each statement it ran, not after reads elsewhere', async () => {
    let changes = 0;
    const writes = sql.followedBy(() => changes++);
    await db.transaction(async (tx) => {
      await writes.in(tx).exec(`INSERT INTO sql_helper_probe VALUES (1, 'a')`);
      await sql.in(tx).rows(`SELECT id FROM sql_helper_probe`);
      expect(changes).toBe(0);
    });
    expect(changes).toBe(1);
    await writes.exec(`DELETE FROM sql_helper_probe`);
    expect(changes).toBe(2);
    await sql.exec(`INSERT INTO sql_helper_probe VALUES (2, 'b')`);
    expect(changes).toBe(2);
  });
});
