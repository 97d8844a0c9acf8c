import { TestApp } from './test-app';
import { basic } from './test-app';

export interface FeedRun {
  id: string;
  outcome: string;
  error: string | null;
  counts: Record<string, number>;
  rejectedSample: Array<{ indicator: string | null; reason: string }>;
}

/** Feed configuration and "wait for the n-th run" helpers over the API. */
export function feedHelpers(t: TestApp) {
  const admin = basic(t.admin.username, t.admin.password);

  function put(supplier: string, body: Record<string, unknown>) {
    return t.api().put(`/api/v1/suppliers/${supplier}/feed`).set('Authorization', admin).send(body);
  }

  async function get(supplier: string) {
    const res = await t.api().get(`/api/v1/suppliers/${supplier}/feed`).set('Authorization', admin);
    if (res.status !== 200) throw new Error(`feed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  async function runs(supplier: string): Promise<FeedRun[]> {
    const res = await t
      .api()
      .get(`/api/v1/suppliers/${supplier}/feed/runs?limit=1000`)
      .set('Authorization', admin);
    if (res.status !== 200) throw new Error(`runs: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.items as FeedRun[];
  }

  /** Waits until the feed has `n` recorded runs; returns the newest. */
  async function waitForRuns(supplier: string, n: number, timeoutMs = 20_000): Promise<FeedRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await runs(supplier);
      if (list.length >= n) return list[0];
      if (Date.now() > deadline)
        throw new Error(`${supplier}: ${list.length} runs, waited for ${n}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** POST …/feed/run (202) and wait for that run. */
  async function runNow(supplier: string): Promise<FeedRun> {
    const count = (await runs(supplier)).length;
    const res = await t
      .api()
      .post(`/api/v1/suppliers/${supplier}/feed/run`)
      .set('Authorization', admin);
    if (res.status !== 202) throw new Error(`run: ${res.status} ${JSON.stringify(res.body)}`);
    return waitForRuns(supplier, count + 1);
  }

  return { admin, put, get, runs, waitForRuns, runNow };
}
