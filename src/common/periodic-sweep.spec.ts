import { PeriodicSweep } from './periodic-sweep';

/** A promise and the function that settles it, so a test decides when a run ends. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('PeriodicSweep', () => {
  it('lets a caller join the sweep in progress instead of starting another', async () => {
    const g = gate();
    let sweeps = 0;
    const sweep = new PeriodicSweep(async () => {
      sweeps++;
      await g.promise;
      return sweeps;
    }, fail);
    const first = sweep.runOnce();
    const second = sweep.runOnce();
    g.open();
    expect(await Promise.all([first, second])).toEqual([1, 1]);
    expect(await sweep.runOnce()).toBe(2);
  });

  it('runs on its timer, reports failures, and stop ends the timer after the sweep in progress', async () => {
    jest.useFakeTimers();
    try {
      const errors: unknown[] = [];
      let sweeps = 0;
      const sweep = new PeriodicSweep(
        () => (++sweeps === 1 ? Promise.reject(new Error('db down')) : Promise.resolve(sweeps)),
        (err) => errors.push(err),
      );
      sweep.start(1_000);
      await jest.advanceTimersByTimeAsync(2_500);
      expect(sweeps).toBe(2);
      expect(errors).toEqual([new Error('db down')]);
      await sweep.stop();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(sweeps).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('stop waits for a failing sweep, which its starter reports once, and does not reject', async () => {
    jest.useFakeTimers();
    try {
      const g = gate();
      const errors: unknown[] = [];
      const sweep = new PeriodicSweep(
        async () => {
          await g.promise;
          throw new Error('db down');
        },
        (err) => errors.push(err),
      );
      sweep.start(1_000);
      await jest.advanceTimersByTimeAsync(1_000);
      const stopped = sweep.stop();
      g.open();
      await expect(stopped).resolves.toBeUndefined();
      expect(errors).toEqual([new Error('db down')]);
    } finally {
      jest.useRealTimers();
    }
  });
});

function fail(err: unknown): never {
  throw err;
}
