import { createTestApp, TestApp } from './support/test-app';
import { PageBody, threatIntel } from './support/threat-intel';
import { asUser } from './api/client';

describe('suppliers (docs/api.md §3)', () => {
  let t: TestApp;
  let h: ReturnType<typeof threatIntel>;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp();
    h = threatIntel(t);
    admin = h.admin;
  });
  afterAll(() => t.close());

  it('has the built-ins InternalTI and FalsePositive', async () => {
    const res = await asUser(t, admin).get('/api/v1/suppliers');
    expect(res.status).toBe(200);
    const builtIns = res.body.items.filter((s: { builtIn: boolean }) => s.builtIn);
    expect(builtIns.map((s: { name: string }) => s.name).sort()).toEqual([
      'FalsePositive',
      'InternalTI',
    ]);
    expect(builtIns[0]).toEqual({
      name: expect.any(String),
      vendor: 'Indicium',
      description: expect.any(String),
      status: 'enabled',
      confidence: 50,
      retentionMinutes: 0,
      sharing: 'none',
      actionableFields: [],
      builtIn: true,
      indicatorCount: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('creates a supplier with the documented defaults and audits it', async () => {
    const res = await asUser(t, admin).post('/api/v1/suppliers').send({ name: 'Acme_Feed-1' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      name: 'Acme_Feed-1',
      vendor: '',
      description: 'REST API supplier',
      status: 'enabled',
      confidence: 50,
      retentionMinutes: 0,
      sharing: 'none',
      actionableFields: [],
      builtIn: false,
      indicatorCount: 0,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const full = await asUser(t, admin)
      .post('/api/v1/suppliers')
      .send({
        name: 'FullFeed',
        vendor: 'Acme',
        description: 'Everything',
        confidence: 80,
        retentionMinutes: 1440,
        actionableFields: ['threat', 'kill-chain'],
      });
    expect(full.status).toBe(201);
    expect(full.body).toMatchObject({
      vendor: 'Acme',
      description: 'Everything',
      confidence: 80,
      retentionMinutes: 1440,
      actionableFields: ['threat', 'kill-chain'],
    });
    const [record] = await h.auditActions('supplier.create');
    expect(record).toMatchObject({
      entityType: 'supplier',
      entityName: 'FullFeed',
      operation: 'create',
      outcome: 'success',
      actorName: 'admin',
      newValue: expect.objectContaining({ name: 'FullFeed', confidence: 80 }),
    });
  });

  it.each([
    [{}, /name/],
    [{ name: 'bad name' }, /name must match/],
    [{ name: 'x'.repeat(129) }, /name must match/],
    [{ name: 'ok', confidence: 101 }, /confidence/],
    [{ name: 'ok', confidence: -1 }, /confidence/],
    [{ name: 'ok', retentionMinutes: -5 }, /retentionMinutes/],
    [{ name: 'ok', retentionMinutes: 1.5 }, /retentionMinutes/],
    [{ name: 'ok', vendor: 'v'.repeat(129) }, /vendor/],
    [{ name: 'ok', description: 'd'.repeat(1025) }, /description/],
    [{ name: 'ok', actionableFields: ['Bad Field'] }, /actionableFields/],
    [{ name: 'ok', actionableFields: 'threat' }, /actionableFields/],
    [{ name: 'ok', status: 'enabled' }, /status/],
    [{ name: 'ok', builtIn: true }, /builtIn/],
  ])('rejects %j with 400 naming the field', async (body, message) => {
    const res = await asUser(t, admin).post('/api/v1/suppliers').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toMatch(message);
  });

  it('409 for a duplicate name, case-insensitively, and for the reserved names', async () => {
    await h.createSupplier('DupFeed');
    for (const name of [
      'DupFeed',
      'dupfeed',
      'DUPFEED',
      'InternalTI',
      'internalti',
      'FalsePositive',
      'FALSEPOSITIVE',
    ]) {
      const res = await asUser(t, admin).post('/api/v1/suppliers').send({ name });
      expect(res.status).toBe(409);
      expect(res.body.statusCode).toBe(409);
    }
  });

  it('looks names up case-insensitively; 404 for an unknown one', async () => {
    await h.createSupplier('CaseFeed');
    const res = await asUser(t, admin).get('/api/v1/suppliers/casefeed');
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('CaseFeed');
    const missing = await asUser(t, admin).get('/api/v1/suppliers/NoSuchFeed');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({
      code: 'supplier_not_found',
      message: 'Supplier "NoSuchFeed" does not exist',
    });
    for (const req of [
      t.api().patch('/api/v1/suppliers/NoSuchFeed').send({ confidence: 1 }),
      t.api().delete('/api/v1/suppliers/NoSuchFeed'),
    ]) {
      expect((await req.set('Authorization', admin)).status).toBe(404);
    }
  });

  it('updates and renames a supplier, audited with old and new values', async () => {
    await h.createSupplier('PatchFeed');
    const res = await asUser(t, admin)
      .patch('/api/v1/suppliers/patchfeed')
      .send({
        name: 'PatchedFeed',
        status: 'disabled',
        confidence: 10,
        retentionMinutes: 60,
        vendor: 'V',
        description: 'D',
        actionableFields: ['threat'],
      });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'PatchedFeed',
      status: 'disabled',
      confidence: 10,
      retentionMinutes: 60,
      vendor: 'V',
      description: 'D',
      actionableFields: ['threat'],
    });
    expect((await asUser(t, admin).get('/api/v1/suppliers/PatchFeed')).status).toBe(404);
    const [record] = await h.auditActions('supplier.update');
    expect(record).toMatchObject({
      entityName: 'PatchedFeed',
      oldValue: expect.objectContaining({ name: 'PatchFeed', status: 'enabled' }),
      newValue: expect.objectContaining({ name: 'PatchedFeed', status: 'disabled' }),
    });
    // Renaming to a different case of itself is fine; to another supplier's name is not.
    const recase = await asUser(t, admin)
      .patch('/api/v1/suppliers/PatchedFeed')
      .send({ name: 'PATCHEDFEED' });
    expect(recase.status).toBe(200);
    expect(recase.body.name).toBe('PATCHEDFEED');
    await h.createSupplier('OtherFeed');
    for (const name of ['otherfeed', 'InternalTI']) {
      const clash = await asUser(t, admin).patch('/api/v1/suppliers/PatchedFeed').send({ name });
      expect(clash.status).toBe(409);
    }
    const bad = await asUser(t, admin)
      .patch('/api/v1/suppliers/PatchedFeed')
      .send({ status: 'paused', unknownField: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/status/);
    expect(bad.body.message).toMatch(/unknownField/);
  });

  it('built-ins accept only status and actionableFields, and cannot be deleted', async () => {
    for (const name of ['InternalTI', 'FalsePositive']) {
      const ok = await asUser(t, admin)
        .patch(`/api/v1/suppliers/${name.toLowerCase()}`)
        .send({ status: 'disabled', actionableFields: ['threat'] });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ name, status: 'disabled', actionableFields: ['threat'] });
      await asUser(t, admin)
        .patch(`/api/v1/suppliers/${name}`)
        .send({ status: 'enabled' })
        .expect(200);
      for (const body of [
        { name: 'Renamed' },
        { confidence: 10 },
        { retentionMinutes: 5 },
        { vendor: 'x' },
        { description: 'x' },
        { status: 'enabled', confidence: 50 },
      ]) {
        const res = await asUser(t, admin).patch(`/api/v1/suppliers/${name}`).send(body);
        expect(res.status).toBe(409);
        expect(res.body.code).toBe('built_in_immutable');
        expect(res.body.message).toMatch(/built in/);
      }
      const del = await asUser(t, admin).delete(`/api/v1/suppliers/${name}`);
      expect(del.status).toBe(409);
    }
  });

  it('deletes a supplier with its indicators, audited', async () => {
    await h.createSupplier('DoomedFeed');
    await h.upload('DoomedFeed', [{ indicator: 'doomed.com' }]).expect(200);
    const res = await asUser(t, admin).delete('/api/v1/suppliers/doomedfeed');
    expect(res.status).toBe(204);
    expect((await asUser(t, admin).get('/api/v1/suppliers/DoomedFeed')).status).toBe(404);
    // Re-created under the same name, it starts empty.
    await h.createSupplier('DoomedFeed');
    expect(await h.listAll('DoomedFeed')).toEqual([]);
    const [record] = await h.auditActions('supplier.delete');
    expect(record).toMatchObject({ entityName: 'DoomedFeed', operation: 'delete' });
  });

  it('lists with keyset pagination, ordered by name case-insensitively', async () => {
    for (const n of ['page-b', 'Page-A', 'page-c']) await h.createSupplier(n);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: PageBody<{ name: string }> } = await t
        .api()
        .get('/api/v1/suppliers')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set('Authorization', admin);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((s: { name: string }) => s.name));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const lower = seen.map((s) => s.toLowerCase());
    expect([...lower].sort()).toEqual(lower);
    expect(seen).toEqual(expect.arrayContaining(['Page-A', 'page-b', 'page-c', 'InternalTI']));
    const bad = await asUser(t, admin).get('/api/v1/suppliers?cursor=nope');
    expect(bad.status).toBe(400);
  });

  it('401 without credentials; 403 for an Analyst on every supplier route', async () => {
    expect((await t.api().get('/api/v1/suppliers')).status).toBe(401);
    const analyst = await h.createAnalyst('supplier.analyst');
    const calls = [
      t.api().get('/api/v1/suppliers'),
      t.api().post('/api/v1/suppliers').send({ name: 'AnalystFeed' }),
      t.api().get('/api/v1/suppliers/InternalTI'),
      t.api().patch('/api/v1/suppliers/InternalTI').send({ status: 'disabled' }),
      t.api().delete('/api/v1/suppliers/InternalTI'),
    ];
    for (const call of calls) {
      const res = await call.set('Authorization', analyst);
      expect(res.status).toBe(403);
      expect(res.body.statusCode).toBe(403);
    }
  });
});
