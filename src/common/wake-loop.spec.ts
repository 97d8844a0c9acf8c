import { WakeLoop } from './wake-loop';

/** A promise and the function that settles it, so a test decides when a run ends. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('WakeLoop', () => {
  it('runs once per wake when idle, and wakes during a run coalesce into exactly one more run', async () => {
    const gates = [gate(), gate()];
    let runs = 0;
    const loop = new WakeLoop(async () => {
      await gates[runs++]?.promise;
    }, fail);
    loop.wake();
    loop.wake();
    loop.wake();
    loop.wake();
    expect(runs).toBe(1);
    gates[0].open();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(2);
    gates[1].open();
    await loop.stop();
    expect(runs).toBe(2);
  });

  it('reports a failed run and keeps serving wakes', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const loop = new WakeLoop(
      () => (++runs === 1 ? Promise.reject(new Error('boom')) : Promise.resolve()),
      (err) => errors.push(err),
    );
    loop.wake();
    await new Promise((resolve) => setImmediate(resolve));
    loop.wake();
    await loop.stop();
    expect(runs).toBe(2);
    expect(errors).toEqual([new Error('boom')]);
  });

  it('stop waits for the run in progress, asks for no more, and ignores later wakes', async () => {
    const g = gate();
    let runs = 0;
    let ended = false;
    const loop = new WakeLoop(async () => {
      runs++;
      await g.promise;
      ended = true;
    }, fail);
    loop.wake();
    loop.wake(); // would ask for a second run, but stop comes first
    const stopped = loop.stop();
    expect(loop.stopped).toBe(true);
    g.open();
    await stopped;
    expect(ended).toBe(true);
    loop.wake();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
  });
});

function fail(err: unknown): never {
  throw err;
}
