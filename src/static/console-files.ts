import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** One file of the built console, held in memory with its compressed forms. */
export interface ConsoleFile {
  type: string;
  etag: string;
  /** Vite names assets by content hash: those never change under their name. */
  immutable: boolean;
  identity: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);
/** A build is a few dozen files; anything far beyond that is not a console build. */
const MAX_FILES = 500;

/**
 * Reads a console build (index.html and assets/) into memory: a request is answered from a
 * map keyed by URL path, so no request path ever reaches the file system. Each text file is
 * compressed once here, not per request.
 */
export function loadConsoleFiles(dir: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  for (const path of walk(dir)) {
    if (files.size >= MAX_FILES) throw new Error(`${dir} holds more than ${MAX_FILES} files`);
    const ext = extname(path);
    const identity = readFileSync(path);
    const key = '/' + relative(dir, path).split(sep).join('/');
    const compress = COMPRESSIBLE.has(ext) && identity.length > 512;
    files.set(key, {
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`,
      immutable: key.startsWith('/assets/'),
      identity,
      gzip: compress ? gzipSync(identity, { level: 9 }) : undefined,
      br: compress
        ? brotliCompressSync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
        : undefined,
    });
  }
  return files;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) yield* walk(path);
    else if (stat.isFile()) yield path;
  }
}
