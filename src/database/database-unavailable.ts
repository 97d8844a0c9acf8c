import { QueryFailedError } from 'typeorm';

/** Seconds a client is asked to wait after a 503 for want of the database. */
const RETRY_AFTER_SECONDS = 2;

/**
 * The database could not serve a statement in time: unreachable, stalled, refusing
 * connections, or past a statement or lock timeout. Answered 503 with Retry-After
 * (src/common/errors/http-exception.filter.ts), never 500.
 */
export class DatabaseUnavailable extends Error {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;

  constructor(
    /** Why, in a few words (`connection lost`, `statement timeout`, …). */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The database is unavailable (${reason}); retry shortly`, options);
    this.name = 'DatabaseUnavailable';
  }
}

/** The DatabaseUnavailable behind an error, also when TypeORM wrapped it; else undefined. */
export function databaseUnavailableIn(err: unknown): DatabaseUnavailable | undefined {
  const inner = err instanceof QueryFailedError ? (err.driverError as unknown) : err;
  return inner instanceof DatabaseUnavailable ? inner : undefined;
}

/** SQLSTATEs of a server that is alive but did not serve the statement in time. */
const SERVER_TIMEOUTS: Record<string, string> = {
  '57014': 'statement timeout',
  '55P03': 'lock timeout',
  '53300': 'too many connections',
  '57P03': 'the database is starting or shutting down',
};

/** Connection-level failures: the socket or the server went away. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const CONNECTION_MESSAGES =
  /^(Connection terminated|timeout expired|Client has encountered a connection error|Client was closed)/;

export interface Classified {
  error: DatabaseUnavailable;
  /** The connection failed (not a timeout of a server that answers): the database may be down. */
  lost: boolean;
}

/**
 * A node-postgres error as DatabaseUnavailable when it means the database could not serve
 * the statement; undefined for every other error (constraint violations, bad SQL, …).
 */
export function classifyDatabaseError(err: unknown): Classified | undefined {
  if (err instanceof DatabaseUnavailable) return { error: err, lost: false };
  // Not `instanceof Error`: socket errors come from Node's own realm, which differs under jest.
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return undefined;
  if (typeof code === 'string') {
    const timeout = SERVER_TIMEOUTS[code];
    if (timeout) return { error: new DatabaseUnavailable(timeout, { cause: err }), lost: false };
    // Class 08 (connection exception), 57P01/57P02 (the server shut down or crashed).
    const lost = code.startsWith('08') || code === '57P01' || code === '57P02';
    if (lost || CONNECTION_CODES.has(code)) {
      return { error: new DatabaseUnavailable('connection lost', { cause: err }), lost: true };
    }
  }
  if (message === 'timeout exceeded when trying to connect') {
    // The pool had no free connection in time: busy, not necessarily down.
    return { error: new DatabaseUnavailable('no free connection', { cause: err }), lost: false };
  }
  if (CONNECTION_MESSAGES.test(message)) {
    return { error: new DatabaseUnavailable('connection lost', { cause: err }), lost: true };
  }
  return undefined;
}
