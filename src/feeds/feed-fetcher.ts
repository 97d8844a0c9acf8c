import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { request as httpRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { parseIp } from '../common/net/ip-utils';
import { PACKAGE_INFO } from '../config/package-info';

export const USER_AGENT = `Indicium/${PACKAGE_INFO.version}`;
const MAX_REDIRECTS = 5;
const MAX_BODY_BYTES = 512 * 1024 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;

/** The fetch failed; the message is what the feed status shows as `lastError`. */
class FeedFetchError extends Error {}

export interface FetchOptions {
  headers: Record<string, string>;
  /** Sent only to the origin of the configured URL (dropped when a redirect leaves it). */
  credentialHeaders?: Record<string, string>;
  tlsVerify: boolean;
  caCertificate?: string | null;
  signal: AbortSignal;
  allowPrivateNetworks: boolean;
  maxBytes?: number;
  connectTimeoutMs?: number;
}

export type FetchResult =
  | { status: 'not_modified' }
  | {
      status: 'ok';
      /** The body, streamed; throws if it ends early, exceeds the limit or the run is aborted. */
      body: AsyncIterable<Buffer>;
      headers: IncomingHttpHeaders;
      /** Where the body came from, after redirects. */
      url: string;
    };

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Loopback, private, link-local, CGNAT, multicast, reserved…: anything but public unicast. */
function isPrivateAddress(address: string): boolean {
  const ip = parseIp(address);
  if (!ip) return true;
  return ip.range() !== 'unicast';
}

/** dns.lookup that refuses non-public addresses, so a name cannot resolve into the LAN. */
function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const usable = allowPrivate
        ? addresses
        : addresses.filter((a) => !isPrivateAddress(a.address));
      if (usable.length === 0) {
        return callback(
          new FeedFetchError(
            `${hostname} resolves only to private or loopback addresses (FEED_ALLOW_PRIVATE_NETWORKS is false)`,
          ),
          '',
          0,
        );
      }
      if (options.all) return callback(null, usable);
      return callback(null, usable[0].address, usable[0].family);
    });
  };
}

function checkUrl(raw: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FeedFetchError(`not a valid URL: ${raw.slice(0, 256)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FeedFetchError(
      `URL scheme ${url.protocol.replace(/:$/, '')} is not allowed (http or https only)`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && ipaddr.isValid(host) && isPrivateAddress(host)) {
    throw new FeedFetchError(
      `${host} is a private or loopback address (FEED_ALLOW_PRIVATE_NETWORKS is false)`,
    );
  }
  return url;
}

function describeError(err: unknown): string {
  if (err instanceof FeedFetchError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return 'aborted';
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

/** One request; resolves with the response head (the body is read by the caller). */
function requestOnce(
  url: URL,
  headers: Record<string, string>,
  opts: FetchOptions,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'GET',
      headers,
      agent: false,
      signal: opts.signal,
      lookup: guardedLookup(opts.allowPrivateNetworks),
      rejectUnauthorized: opts.tlsVerify,
      ...(opts.caCertificate ? { ca: opts.caCertificate } : {}),
    });
    const connectTimeout = setTimeout(() => {
      req.destroy(
        new FeedFetchError(
          `could not connect to ${url.host} within ${(opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS) / 1000} s`,
        ),
      );
    }, opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    req.once('socket', (socket) => {
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () =>
        clearTimeout(connectTimeout),
      );
    });
    req.once('response', (res) => {
      clearTimeout(connectTimeout);
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(connectTimeout);
      reject(
        opts.signal.aborted
          ? (opts.signal.reason as Error)
          : new FeedFetchError(`GET ${url.origin}${url.pathname}: ${describeError(err)}`),
      );
    });
    req.end();
  });
}

/** The response body with the size limit and a check that it arrived whole. */
async function* bodyOf(
  res: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  const expected = res.headers['content-length'] ? Number(res.headers['content-length']) : null;
  if (expected !== null && expected > maxBytes) {
    res.destroy();
    throw new FeedFetchError(
      `the feed is larger than ${maxBytes} bytes (Content-Length ${expected})`,
    );
  }
  let received = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes)
        throw new FeedFetchError(`the feed is larger than ${maxBytes} bytes`);
      yield chunk;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof FeedFetchError) throw err;
    throw new FeedFetchError(`the connection broke after ${received} bytes: ${describeError(err)}`);
  } finally {
    res.destroy();
  }
  if (!res.complete || (expected !== null && received !== expected)) {
    throw new FeedFetchError(`the body ended after ${received} of ${expected ?? 'unknown'} bytes`);
  }
}

/**
 * GETs a feed URL (docs/api.md §9): http/https only (re-checked at every redirect), at most
 * MAX_REDIRECTS redirects, a connect timeout, TLS verified unless turned off (with an optional
 * CA), the body streamed and capped. 304 → `not_modified`; any other non-2xx fails.
 */
export async function fetchFeed(rawUrl: string, opts: FetchOptions): Promise<FetchResult> {
  const origin = checkUrl(rawUrl, opts.allowPrivateNetworks).origin;
  let url = checkUrl(rawUrl, opts.allowPrivateNetworks);
  for (let redirects = 0; ; redirects++) {
    const headers: Record<string, string> = {
      'User-Agent': USER_AGENT,
      ...opts.headers,
      ...(url.origin === origin ? (opts.credentialHeaders ?? {}) : {}),
    };
    const res = await requestOnce(url, headers, opts);
    const status = res.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      res.resume();
      const location = res.headers.location;
      if (!location) throw new FeedFetchError(`HTTP ${status} without a Location header`);
      if (redirects >= MAX_REDIRECTS) {
        throw new FeedFetchError(`too many redirects (more than ${MAX_REDIRECTS})`);
      }
      url = checkUrl(new URL(location, url).toString(), opts.allowPrivateNetworks);
      continue;
    }
    if (status === 304) {
      res.resume();
      return { status: 'not_modified' };
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw new FeedFetchError(
        `GET ${url.origin}${url.pathname}: HTTP ${status} ${res.statusMessage ?? ''}`.trim(),
      );
    }
    return {
      status: 'ok',
      body: bodyOf(res, opts.maxBytes ?? MAX_BODY_BYTES, opts.signal),
      headers: res.headers,
      url: url.toString(),
    };
  }
}
