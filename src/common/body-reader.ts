import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream';

/** An error with http-errors' fields, as body-parser raises it: the exception filter maps it alike. */
function bodyError(status: number, message: string, type: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

function declaredLength(req: IncomingMessage): number | null {
  const header = req.headers['content-length'];
  return header === undefined || isNaN(Number(header)) ? null : parseInt(header, 10);
}

/** As body-parser: the rest of the request is read off before the error answers it. */
export function readOffThen(req: IncomingMessage, answer: () => void): void {
  req.unpipe();
  req.pause();
  if (req.complete || req.destroyed) return answer();
  finished(req, answer);
  req.resume();
}

/**
 * The body of `req` (identity content encoding) as express.json() reads it, with its limit and
 * its errors (413 entity.too.large, 400 request.size.invalid and request.aborted, the request
 * read off before the error is passed on), but copied into one buffer chunk by chunk as it
 * arrives: body-parser's reader joins the chunks at the end, one synchronous copy of up to
 * 64 MiB (100–200 ms on a loaded machine).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = declaredLength(req);
    const fail = (err: Error): void => readOffThen(req, () => reject(err));
    if (declared !== null && declared > limit) {
      return fail(bodyError(413, 'request entity too large', 'entity.too.large'));
    }
    if (!req.readable) return fail(bodyError(500, 'stream is not readable', 'stream.not.readable'));
    // Pages are only taken as bytes are written into it; a body of unknown length gets the limit.
    const buffer = Buffer.allocUnsafeSlow(declared ?? limit);
    let received = 0;
    let complete = false;
    const cleanup = (): void => {
      req.off('aborted', onAborted);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onEnd);
      req.off('close', cleanup);
    };
    const done = (err: Error | null): void => {
      complete = true;
      cleanup();
      if (err) fail(err);
      else resolve(buffer.subarray(0, received));
    };
    function onAborted(): void {
      if (!complete) done(bodyError(400, 'request aborted', 'request.aborted'));
    }
    function onData(chunk: Buffer): void {
      if (complete) return;
      // Bytes beyond the declared length are only counted: the end refuses the body.
      if (received + chunk.length <= buffer.length) chunk.copy(buffer, received);
      received += chunk.length;
      if (received > limit) done(bodyError(413, 'request entity too large', 'entity.too.large'));
    }
    function onEnd(err?: Error): void {
      if (complete) return;
      if (err) {
        // body-parser turns a stream error into a 400 unless it carries a status.
        const status = (err as { status?: number }).status ?? 400;
        return done(Object.assign(err, { status, statusCode: status, expose: status < 500 }));
      }
      if (declared !== null && received !== declared) {
        done(bodyError(400, 'request size did not match content length', 'request.size.invalid'));
      } else {
        done(null);
      }
    }
    req.on('aborted', onAborted);
    req.on('close', cleanup);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onEnd);
  });
}
