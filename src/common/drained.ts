import type { Writable } from 'node:stream';

/** Resolves when a stream that refused a write has drained, or closed; leaves no listener behind. */
export function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
