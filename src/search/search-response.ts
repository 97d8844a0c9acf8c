import type { Response } from 'express';
import { Slicer } from '../common/work-budget';
import type { SearchResultDto } from './dto/search.dto';
import { drained } from '../common/drained';

/** Answers of up to this many results go out in one write, with a Content-Length. */
const SMALL_ANSWER = 2_000;
/** Text written per write: ~256 KiB, a millisecond or two of stringifying. */
const CHUNK_CHARS = 256 * 1024;

/**
 * Writes `{"results":[…]}` as JSON.stringify would, byte for byte, but a few hundred KiB of
 * results at a time, yielding between writes and waiting for the socket to drain: one
 * JSON.stringify of a 100,000-result answer held the event loop for ~100 ms and the whole text
 * in memory at once. Chunks are cut by size, not count: results echo their values, which may
 * be long (2,000 results of 590-character URLs were ~2.6 MB, tens of ms, in one piece).
 */
export async function writeSearchResponse(
  res: Response,
  results: readonly SearchResultDto[],
): Promise<void> {
  res.status(200).type('application/json');
  if (results.length <= SMALL_ANSWER) {
    res.send(JSON.stringify({ results }));
    return;
  }
  const slicer = new Slicer(1);
  res.write('{"results":[');
  let parts: string[] = [];
  let chars = 0;
  let first = true;
  for (let i = 0; i < results.length && !res.destroyed; i++) {
    // Before the work, not after: a chunk resumed by the socket's drain waits for its turn.
    if (parts.length === 0 && slicer.due(0)) await slicer.pause();
    const text = JSON.stringify(results[i]);
    parts.push(text);
    chars += text.length;
    if (chars < CHUNK_CHARS && i < results.length - 1) continue;
    const body = parts.join(',');
    const flowing = res.write(first ? body : `,${body}`);
    first = false;
    parts = [];
    chars = 0;
    if (!flowing) await drained(res);
  }
  res.end(']}');
}
