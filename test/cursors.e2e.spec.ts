import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { basic, createTestApp, TestApp } from './support/test-app';
import { asUser } from './api/client';

/** Every list in the published document: a new list is covered without touching this file. */
function listPaths(): string[] {
  const doc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
    paths: Record<string, Record<string, { parameters?: Array<{ name: string }> }>>;
  };
  return Object.entries(doc.paths)
    .filter(([, ops]) => ops.get?.parameters?.some((p) => p.name === 'cursor'))
    .map(([path]) => path);
}

const b64 = (bytes: string | Buffer): string =>
  (typeof bytes === 'string' ? Buffer.from(bytes) : bytes).toString('base64url');

/** Cursors of the right outer shape that no list key can be (issue 14: the first was a 500). */
const FORGED: ReadonlyArray<[string, string]> = [
  ['base64 of ["\\u0000"]', 'WyJcdTAwMDAiXQ'],
  ['NUL mid-text', b64('["a\\u0000b"]')],
  ['a lone high surrogate', b64('["\\ud800"]')],
  ['a lone low surrogate', b64('["\\udfff"]')],
  ['CESU-8 surrogate bytes', b64(Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]))],
  ['invalid UTF-8', b64(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]))],
  ['an unsafe integer', b64('[9007199254740993]')],
  ['a nested key', b64('[["a"]]')],
  ['two keys', b64('["a","b"]')],
  ['padding', 'WyJhIl0='],
];

describe('forged cursors answer 400 on every list (docs/api.md §1)', () => {
  let t: TestApp;
  let admin: string;
  const paths = listPaths();

  beforeAll(async () => {
    t = await createTestApp();
    admin = basic(t.admin.username, t.admin.password);
    await asUser(t, admin).post('/api/v1/suppliers').send({ name: 'CursorFeed' }).expect(201);
    // A disabled feed, so its run history is a list too; it never fetches.
    await asUser(t, admin)
      .put('/api/v1/suppliers/CursorFeed/feed')
      .send({ url: 'https://feeds.example.org/list.txt', format: 'text', enabled: false })
      .expect((res) => expect([200, 201]).toContain(res.status));
  });
  afterAll(() => t.close());

  it('knows the lists', () => {
    expect(paths).toEqual(
      expect.arrayContaining(['/api/v1/tags', '/api/v1/suppliers', '/api/v1/roles']),
    );
  });

  it.each(FORGED)('a cursor with %s', async (_what, cursor) => {
    for (const path of paths) {
      const res = await t
        .api()
        .get(path.replace('{name}', 'CursorFeed'))
        .query({ cursor })
        .set('Authorization', admin);
      expect({ path, status: res.status, message: res.body.message }).toEqual({
        path,
        status: 400,
        message: 'cursor is not a valid cursor from a previous page',
      });
    }
  });

  it('a UUID list refuses a key that is no UUID; the audit log one that is no sequence', async () => {
    for (const path of ['/api/v1/users', '/api/v1/api-clients', '/api/v1/audit-logs']) {
      const res = await t
        .api()
        .get(path)
        .query({ cursor: b64('["x"]') })
        .set('Authorization', admin);
      expect([path, res.status]).toEqual([path, 400]);
    }
  });
});
