import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { drained } from '../common/drained';

const logger = new Logger('StreamBody');

/**
 * Bodies are written in pieces of about this many characters, not one string per batch: a
 * string of a megabyte lands in V8's large-object space, which only a full GC frees, so
 * whole-batch strings piled up in RSS over a 1M-row export; small pieces die young.
 */
export const CHUNK_CHARS = 32 * 1024;

/** A response body: text pieces (keyset paths) or bytes (COPY), optionally abortable. */
export type Body = AsyncIterable<string | Buffer> & { abort?: () => void };

/**
 * Writes chunks to the response as they are produced, honouring backpressure: when the socket
 * buffer is full it waits for 'drain' before asking for the next chunk, so at most one chunk
 * (one keyset batch) is held per request whatever the client's speed. A client that goes away
 * stops the producer: the loop returns and the generator's `finally` runs, so no further batch
 * query is issued; a body with `abort` (a COPY) is told at once, even while it waits for its
 * next chunk.
 */
export async function streamBody(res: Response, chunks: Body): Promise<void> {
  const gone = (): void => {
    if (!res.writableFinished) chunks.abort?.();
  };
  res.once('close', gone);
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      if (chunk.length > 0 && !res.write(chunk)) await drained(res);
      if (res.destroyed) return;
    }
  } catch (err) {
    if (res.destroyed) return; // the client went away and the producer was stopped
    throw err;
  } finally {
    res.off('close', gone);
  }
  res.end();
}

/**
 * Keyset batches, the next one's query already running while the current one is formatted and
 * written (two batches in memory at most). `fetch` returns the rows after a position; a short
 * batch is the last.
 */
export async function* keysetBatches<R, K>(
  fetch: (after: K | null) => Promise<R[]>,
  keyOf: (row: R) => K,
  batchSize: number,
): AsyncGenerator<R[]> {
  let pending: Promise<R[]> | null = fetch(null);
  try {
    while (pending) {
      const rows: R[] = await pending;
      pending = rows.length === batchSize ? fetch(keyOf(rows[rows.length - 1])) : null;
      yield rows;
    }
  } finally {
    // The consumer stopped early (client gone): nobody reads the prefetched batch any more.
    void pending?.catch((err: unknown) =>
      logger.debug({ err }, 'a prefetched batch failed after its reader left; nothing used it'),
    );
  }
}
