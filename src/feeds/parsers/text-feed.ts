import { StringDecoder } from 'node:string_decoder';
import { ByteStream, FeedItem, MalformedFeedError } from './feed-item';

/** Longer lines are no indicator (a URL is at most a few KiB); refusing them bounds memory. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * The lines of a byte stream, without their `\n` / `\r\n`. Decodes UTF-8 across chunk borders
 * and holds at most one line.
 */
async function* linesOf(body: ByteStream): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of body) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      yield text.slice(start, nl);
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > MAX_LINE_BYTES) {
      throw new MalformedFeedError(`a line is longer than ${MAX_LINE_BYTES} bytes`);
    }
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}

/**
 * `text` feeds (docs/api.md §9): one indicator per line; blank lines and lines starting with
 * `#` or `;` are skipped. The type is detected from the value, as for uploads.
 */
export async function* parseTextFeed(body: ByteStream): AsyncGenerator<FeedItem> {
  let first = true;
  for await (const raw of linesOf(body)) {
    let line = raw.trim();
    if (first) {
      line = line.replace(/^\uFEFF/, '');
      first = false;
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    yield { kind: 'entry', entry: { indicator: line } };
  }
}
