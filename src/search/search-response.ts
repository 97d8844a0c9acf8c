import type { Response } from 'express';
import { Slicer } from '../common/work-budget';
import type { SearchResultDto } from './dto/search.dto';
import { drained } from '../common/drained';

/** Results stringified per write: a few hundred KiB, a few ms of work. */
const RESULTS_PER_CHUNK = 2_000;

/**
 * Writes `{"results":[…]}` as JSON.stringify would, byte for byte, but a chunk of results at a
 * time, yielding between chunks and waiting for the socket to drain: one JSON.stringify of a
 * 100,000-result answer held the event loop for ~100 ms and the whole text in memory at once.
 * Small answers go out in one write, with a Content-Length.
 */
export async function writeSearchResponse(
  res: Response,
  results: readonly SearchResultDto[],
): Promise<void> {
  res.status(200).type('application/json');
  if (results.length <= RESULTS_PER_CHUNK) {
    res.send(JSON.stringify({ results }));
    return;
  }
  const slicer = new Slicer(1);
  res.write('{"results":[');
  for (let at = 0; at < results.length && !res.destroyed; at += RESULTS_PER_CHUNK) {
    // Before the work, not after: a chunk resumed by the socket's drain waits for its turn.
    if (slicer.due(0)) await slicer.pause();
    const chunk = JSON.stringify(results.slice(at, at + RESULTS_PER_CHUNK));
    // The chunk's array brackets off; a comma between chunks.
    const body = chunk.slice(1, -1);
    const flowing = res.write(at === 0 ? body : `,${body}`);
    if (!flowing) await drained(res);
  }
  res.end(']}');
}
