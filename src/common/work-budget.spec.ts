import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { HttpException } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Slicer, WorkBudget } from './work-budget';

const MiB = 1024 * 1024;

function budget(env: Record<string, string> = {}): WorkBudget {
  return new WorkBudget(
    AppConfig.load({ ADMIN_PASSWORD: 'x'.repeat(12), WORK_BUDGET_MB: '100', ...env }),
  );
}

/** A response as far as the budget sees it: headers, and 'close' when it is done. */
function response(): ServerResponse & { headers: Map<string, string>; done: () => void } {
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    headers: new Map<string, string>(),
    setHeader(name: string, value: string) {
      res.headers.set(name.toLowerCase(), value);
    },
    done: () => res.emit('close'),
  });
  return res as unknown as ServerResponse & { headers: Map<string, string>; done: () => void };
}

/** Resolves to which of the takes have settled so far, after pending callbacks ran. */
async function settled(takes: Array<Promise<unknown>>): Promise<string[]> {
  const state = takes.map(() => 'waiting');
  takes.forEach((t, i) => {
    t.then(
      () => (state[i] = 'taken'),
      (e: HttpException) => (state[i] = `refused ${e.getStatus()}`),
    );
  });
  await new Promise((r) => setImmediate(r));
  return state;
}

describe('WorkBudget', () => {
  it('grants what fits at once, queues the rest first come first served, and gives back on close', async () => {
    const b = budget();
    const [r1, r2, r3, r4] = [response(), response(), response(), response()];
    const takes = [
      b.take(60 * MiB, r1),
      b.take(30 * MiB, r2),
      b.take(50 * MiB, r3),
      // Fits beside the first two, but waits behind the third: no overtaking.
      b.take(5 * MiB, r4),
    ];
    expect(await settled(takes)).toEqual(['taken', 'taken', 'waiting', 'waiting']);
    expect(b.available).toBe(10 * MiB);
    r1.done();
    expect(await settled(takes)).toEqual(['taken', 'taken', 'taken', 'taken']);
    expect(b.available).toBe(15 * MiB);
    for (const r of [r2, r3, r4]) r.done();
    expect(b.available).toBe(100 * MiB);
  });

  it('runs work larger than the whole budget alone', async () => {
    const b = budget();
    const [small, huge] = [response(), response()];
    await b.take(MiB, small);
    const big = b.take(1000 * MiB, huge);
    expect(await settled([big])).toEqual(['waiting']);
    small.done();
    expect(await settled([big])).toEqual(['taken']);
    expect(b.available).toBe(0);
  });

  it('refuses with 429 and Retry-After beyond the queue, and after the longest wait', async () => {
    jest.useFakeTimers();
    try {
      const b = budget({ WORK_QUEUE_LENGTH: '1', WORK_QUEUE_WAIT_SECONDS: '5' });
      await b.take(100 * MiB, response());
      const [queued, beyond] = [response(), response()];
      const takes = [b.take(MiB, queued), b.take(MiB, beyond)];
      await expect(takes[1]).rejects.toThrow(/WORK_BUDGET_MB=100.*1 requests already wait/);
      expect(beyond.headers.get('retry-after')).toBe('2');
      jest.advanceTimersByTime(5_000);
      await expect(takes[0]).rejects.toThrow(/waited 5 s \(WORK_QUEUE_WAIT_SECONDS\)/);
      expect(queued.headers.get('retry-after')).toBe('2');
    } finally {
      jest.useRealTimers();
    }
  });

  it('lets a client that left while waiting out of the queue, and who queued behind it in', async () => {
    const b = budget();
    const first = response();
    await b.take(90 * MiB, first);
    const [leaving, next] = [response(), response()];
    const takes = [b.take(50 * MiB, leaving), b.take(10 * MiB, next)];
    expect(await settled(takes)).toEqual(['waiting', 'waiting']);
    leaving.done();
    expect(await settled(takes)).toEqual(['refused 429', 'taken']);
    expect(b.available).toBe(0);
  });
});

describe('Slicer', () => {
  it('resumes paused work one slice per event-loop turn, first come first served', async () => {
    const order: string[] = [];
    let ticking = true;
    const tick = (): void => {
      order.push('turn');
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const work = async (name: string): Promise<void> => {
      const slicer = new Slicer(1);
      for (let i = 0; i < 3; i++) {
        await slicer.pause();
        order.push(name);
      }
    };
    await Promise.all(['a', 'b', 'c'].map(work));
    ticking = false;
    const resumes = order.filter((o) => o !== 'turn');
    expect(resumes).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
    // Never two slices in one turn: a turn of other work between any two.
    order.forEach((o, i) => {
      if (o !== 'turn' && i > 0) expect(order[i - 1]).toBe('turn');
    });
  });

  it('is due at once: bulk work starts in a turn of its own, not in the callback that began it', () => {
    expect(new Slicer(1).due(0)).toBe(true);
    expect(new Slicer(4).due(3)).toBe(true);
    expect(new Slicer(4).due(2)).toBe(false);
  });
});
