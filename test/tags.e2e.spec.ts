import { createTestApp, TestApp } from './support/test-app';
import { PageBody, threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

describe('tags (docs/api.md §4)', () => {
  let t: TestApp;
  let h: ReturnType<typeof threatIntel>;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    h = threatIntel(t);
    admin = h.admin;
  });
  afterAll(() => t.close());

  it('creates a tag stored uppercase with defaults; audited', async () => {
    const res = await asUser(t, admin).post('/api/v1/tags').send({ name: 'Phishing-Kit_1' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name: 'PHISHING-KIT_1',
      weight: 0,
      description: '',
      color: null,
      indicatorCount: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const full = await asUser(t, admin)
      .post('/api/v1/tags')
      .send({ name: 'malware', weight: 5, description: 'Malware', color: '#FF8800' });
    expect(full.status).toBe(201);
    expect(full.body).toMatchObject({
      name: 'MALWARE',
      weight: 5,
      description: 'Malware',
      color: '#ff8800',
    });
    const [record] = await h.auditActions('tag.create');
    expect(record).toMatchObject({ entityType: 'tag', entityName: 'MALWARE', operation: 'create' });
  });

  it.each([
    [{}, /name/],
    [{ name: 'bad name' }, /name must match/],
    [{ name: 'x'.repeat(129) }, /name must match/],
    [{ name: 'ok', weight: 6 }, /weight/],
    [{ name: 'ok', weight: -1 }, /weight/],
    [{ name: 'ok', weight: 2.5 }, /weight/],
    [{ name: 'ok', color: 'red' }, /color must be #rrggbb/],
    [{ name: 'ok', color: '#12345' }, /color/],
    [{ name: 'ok', description: 'd'.repeat(1025) }, /description/],
    [{ name: 'ok', indicatorCount: 3 }, /indicatorCount/],
  ])('rejects %j with 400 naming the field', async (body, message) => {
    const res = await asUser(t, admin).post('/api/v1/tags').send(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(message);
  });

  it('409 for a duplicate name, whatever its case', async () => {
    await h.createTag('dupe');
    for (const name of ['dupe', 'DUPE', 'Dupe']) {
      const res = await asUser(t, admin).post('/api/v1/tags').send({ name });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        code: 'name_taken',
        message: 'A tag named "DUPE" already exists',
      });
    }
  });

  it('gets, updates (incl. rename and clearing the color) and deletes by name, case-insensitively', async () => {
    await h.createTag('Editable', { color: '#000000' });
    const got = await asUser(t, admin).get('/api/v1/tags/editable');
    expect(got.status).toBe(200);
    expect(got.body.name).toBe('EDITABLE');
    const patched = await asUser(t, admin)
      .patch('/api/v1/tags/eDiTaBlE')
      .send({ name: 'edited', weight: 3, description: 'changed', color: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'EDITED',
      weight: 3,
      description: 'changed',
      color: null,
    });
    const [record] = await h.auditActions('tag.update');
    expect(record).toMatchObject({
      entityName: 'EDITED',
      oldValue: expect.objectContaining({ name: 'EDITABLE', color: '#000000' }),
      newValue: expect.objectContaining({ name: 'EDITED', color: null }),
    });
    await h.createTag('taken');
    const clash = await asUser(t, admin).patch('/api/v1/tags/edited').send({ name: 'Taken' });
    expect(clash.status).toBe(409);
    const bad = await asUser(t, admin).patch('/api/v1/tags/edited').send({ weight: 9 });
    expect(bad.status).toBe(400);
    expect((await asUser(t, admin).delete('/api/v1/tags/Edited')).status).toBe(204);
    expect((await asUser(t, admin).get('/api/v1/tags/EDITED')).status).toBe(404);
    const [deleted] = await h.auditActions('tag.delete');
    expect(deleted).toMatchObject({ entityName: 'EDITED', operation: 'delete' });
    for (const call of [
      t.api().get('/api/v1/tags/none'),
      t.api().patch('/api/v1/tags/none').send({ weight: 1 }),
      t.api().delete('/api/v1/tags/none'),
      t.api().post('/api/v1/tags/none/indicators').send({ supplier: 'InternalTI', indicators: [] }),
    ]) {
      const res = await call.set('Authorization', admin);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        code: 'tag_not_found',
        message: 'Tag "NONE" does not exist',
      });
    }
  });

  it('assigns and unassigns by value (normalised); counts; notFound; audited', async () => {
    await h.createTag('assignable');
    await h.createSupplier('TagFeed');
    await h
      .upload('TagFeed', [
        { indicator: 'one.example.com' },
        { indicator: 'two.example.com' },
        { indicator: '10.9.8.7' },
      ])
      .expect(200);
    const res = await asUser(t, admin)
      .post('/api/v1/tags/Assignable/indicators')
      .send({
        supplier: 'tagfeed',
        indicators: [
          'ONE.example.com.',
          'http://two.example.com',
          'two.example.com',
          '10.9.8.7',
          'nope.example.com',
          'bad value',
        ],
      });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      updated: 3,
      notFound: ['http://two.example.com', 'nope.example.com', 'bad value'],
    });
    const tag = await asUser(t, admin).get('/api/v1/tags/ASSIGNABLE');
    expect(tag.body.indicatorCount).toBe(3);
    expect(
      (await h.listAll('TagFeed', { tag: 'assignable' })).map((i) => i.indicator).sort(),
    ).toEqual(['10.9.8.7', 'one.example.com', 'two.example.com']);
    // Assigning again changes nothing.
    await asUser(t, admin)
      .post('/api/v1/tags/assignable/indicators')
      .send({ supplier: 'TagFeed', indicators: ['one.example.com'] })
      .expect(200);
    const un = await asUser(t, admin)
      .delete('/api/v1/tags/assignable/indicators')
      .send({ supplier: 'TagFeed', indicators: ['one.example.com', 'gone.example.com'] });
    expect(un.status).toBe(200);
    expect(un.body).toEqual({ updated: 1, notFound: ['gone.example.com'] });
    expect((await asUser(t, admin).get('/api/v1/tags/assignable')).body.indicatorCount).toBe(2);
    const [assigned] = await h.auditActions('tag.assign');
    expect(assigned).toMatchObject({
      entityName: 'ASSIGNABLE',
      newValue: expect.objectContaining({ supplier: 'TagFeed' }),
    });
    const [unassigned] = await h.auditActions('tag.unassign');
    expect(unassigned).toMatchObject({
      entityName: 'ASSIGNABLE',
      newValue: expect.objectContaining({ updated: 1 }),
    });

    for (const body of [
      { indicators: ['x'] },
      { supplier: 'TagFeed' },
      { supplier: 'TagFeed', indicators: 'x' },
      { supplier: 'TagFeed', indicators: [5] },
      { supplier: 'TagFeed', indicators: [], extra: 1 },
    ]) {
      const bad = await asUser(t, admin).post('/api/v1/tags/assignable/indicators').send(body);
      expect(bad.status).toBe(400);
    }
    const noSupplier = await asUser(t, admin)
      .post('/api/v1/tags/assignable/indicators')
      .send({ supplier: 'NoSuchFeed', indicators: ['x.com'] });
    expect(noSupplier.status).toBe(404);
    expect(noSupplier.body.code).toBe('supplier_not_found');

    // Deleting the tag removes every assignment.
    await asUser(t, admin).delete('/api/v1/tags/assignable').expect(204);
    const items = await h.listAll('TagFeed');
    expect(items.every((i) => i.tags.length === 0)).toBe(true);
  });

  it('lists with keyset pagination ordered by name', async () => {
    for (const n of ['list-b', 'list-a', 'list-c']) await h.createTag(n);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: PageBody<{ name: string }> } = await t
        .api()
        .get('/api/v1/tags')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set('Authorization', admin);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((x: { name: string }) => x.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect([...seen].sort()).toEqual(seen);
    expect(seen).toEqual(expect.arrayContaining(['LIST-A', 'LIST-B', 'LIST-C']));
  });

  it('401 without credentials; 403 for an Analyst on every tag route', async () => {
    expect((await t.api().get('/api/v1/tags')).status).toBe(401);
    await h.createTag('guarded');
    const analyst = await h.createAnalyst('tag.analyst');
    const body = { supplier: 'InternalTI', indicators: ['x.com'] };
    for (const call of [
      t.api().get('/api/v1/tags'),
      t.api().post('/api/v1/tags').send({ name: 'analyst' }),
      t.api().get('/api/v1/tags/guarded'),
      t.api().patch('/api/v1/tags/guarded').send({ weight: 1 }),
      t.api().delete('/api/v1/tags/guarded'),
      t.api().post('/api/v1/tags/guarded/indicators').send(body),
      t.api().delete('/api/v1/tags/guarded/indicators').send(body),
    ]) {
      expect((await call.set('Authorization', analyst)).status).toBe(403);
    }
  });
});
