import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { join } from 'node:path';
import { AppConfig } from '../config/app-config';
import { ConsoleFile, loadConsoleFiles } from './console-files';

/** The console's own policy: nothing but this origin, no inline script or style, no framing. */
const CONSOLE_CSP = [
  "default-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
const PREFIX = '/console/';
/** A missing build is looked for again at most this often (npm run build may be running). */
const RETRY_MS = 5_000;

/**
 * Serves the built console (docs/console.md) at /console/ from memory, and redirects / there.
 * A path under /console/ that names no file and has no extension is a screen of the
 * single-page app: it gets index.html, so a link to /console/search?q=… loads directly.
 * The console is static and holds no data, so it needs no authentication: everything it shows
 * comes from the API, which does.
 */
@Injectable()
export class ConsoleMiddleware implements NestMiddleware {
  private readonly logger = new Logger(ConsoleMiddleware.name);
  private readonly dir: string;
  private files: Map<string, ConsoleFile> | undefined;
  private missingSince = 0;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.dir = config.env.CONSOLE_DIR ?? join(__dirname, '..', 'console');
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const path = req.originalUrl.split('?', 1)[0];
    if (path === '/' || path === '/console') return redirect(res, req.originalUrl);
    if (!path.startsWith(PREFIX)) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'The console is read with GET');
    }
    const files = this.load();
    if (!files) return plain(res, 404, 'The console is not built here: run npm run build');
    const name = path.slice(PREFIX.length - 1);
    const file =
      files.get(name) ?? (/\.[a-z0-9]+$/i.test(name) ? undefined : files.get('/index.html'));
    if (!file) return plain(res, 404, `No such console file: ${name.slice(0, 200)}`);
    send(req, res, file);
  }

  private load(): Map<string, ConsoleFile> | undefined {
    if (this.files) return this.files;
    if (Date.now() - this.missingSince < RETRY_MS) return undefined;
    try {
      const files = loadConsoleFiles(this.dir);
      if (!files.has('/index.html')) throw new Error(`no index.html in ${this.dir}`);
      this.files = files;
      return files;
    } catch (err) {
      if (this.missingSince === 0) this.logger.warn({ err }, 'console not available');
      this.missingSince = Date.now();
      return undefined;
    }
  }
}

function redirect(res: Response, url: string): void {
  const query = url.indexOf('?');
  res.redirect(302, PREFIX + (query >= 0 && url.startsWith('/console?') ? url.slice(query) : ''));
}

function plain(res: Response, status: number, text: string): void {
  res.status(status).type('text/plain; charset=utf-8').send(text);
}

function send(req: Request, res: Response, file: ConsoleFile): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('Content-Type', file.type);
  res.setHeader('ETag', file.etag);
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader(
    'Cache-Control',
    file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  );
  if (req.headers['if-none-match'] === file.etag) {
    res.status(304).end();
    return;
  }
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  const [body, encoding] =
    file.br && accepted.has('br')
      ? [file.br, 'br']
      : file.gzip && accepted.has('gzip')
        ? [file.gzip, 'gzip']
        : [file.identity, undefined];
  if (encoding) res.setHeader('Content-Encoding', encoding);
  res.setHeader('Content-Length', String(body.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}

/** The codings an Accept-Encoding header allows (q=0 excludes one). */
function acceptedEncodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (coding && !(q !== undefined && Number(q.slice(2)) === 0)) accepted.add(coding);
  }
  return accepted;
}
