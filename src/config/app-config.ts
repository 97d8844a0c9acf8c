import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { parseCidrList } from './ip-range';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every environment variable Indicium reads, validated once at start-up.
 * README.md and .env.example document the same list.
 */
export class EnvironmentVariables {
  /** postgres://user:pass@host:port/db — unset: embedded Postgres (PGlite) in DATA_DIR. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  DATABASE_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8443;

  @IsIn(['on', 'off'])
  TLS: 'on' | 'off' = 'on';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  TLS_CERT_PATH?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  TLS_KEY_PATH?: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  MAX_CONCURRENT_REQUESTS = 256;

  /**
   * Memory that admitted bulk work may hold at once, in MiB (docs/api.md §8, work budget):
   * request bodies, bulk searches, uploads and exports take from it for as long as they run.
   * The default suits a 2-core machine giving the process about 1 GiB.
   */
  @Transform(toInt)
  @IsInt()
  @Min(16)
  @Max(65536)
  WORK_BUDGET_MB = 384;

  /** Requests that may wait for the work budget at once; one more gets 429 with Retry-After. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100000)
  WORK_QUEUE_LENGTH = 64;

  /** How long a request may wait for the work budget (seconds) before it gets 429. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(600)
  WORK_QUEUE_WAIT_SECONDS = 30;

  /**
   * Search lookups running in Postgres at once; concurrent single searches beyond it are
   * merged into the next lookup (one query for many requests).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  SEARCH_LOOKUP_CONCURRENCY = 2;

  /**
   * `on` (default): every instance holds an in-memory index of indicator keys and sends Postgres
   * only the keys it may hold (src/key-index); `off`: every key is looked up in Postgres (the
   * escape hatch, and the baseline the benchmarks compare with).
   */
  @IsIn(['on', 'off'])
  SEARCH_INDEX: 'on' | 'off' = 'on';

  /** Comma-separated CIDRs of proxies whose X-Forwarded-For is believed. Empty: none. */
  @IsString()
  TRUST_PROXY = '';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(12)
  @MaxLength(256)
  ADMIN_PASSWORD?: string;

  /**
   * The key of the audit hash chain (HMAC-SHA256), at least 32 characters. Unset, with
   * AUDIT_CHAIN_KEY_FILE unset too: generated once into DATA_DIR/audit-chain.key. Every
   * instance writing one database must use the same key.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32)
  @MaxLength(1024)
  AUDIT_CHAIN_KEY?: string;

  /** A file holding AUDIT_CHAIN_KEY (e.g. a mounted secret); not together with it. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  AUDIT_CHAIN_KEY_FILE?: string;

  /** Detection events older than this are deleted by the retention sweep (docs/api.md §11). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  DETECTION_RETENTION_DAYS = 30;

  /** Values searched and not detected are remembered this long for retro-scan; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(365)
  RETROSCAN_DAYS = 7;

  /**
   * `off`: searches are not recorded (no hit counters, no detection log, nothing remembered
   * for retro-scan, and no retro-scan after writes): for benchmarks and installations that do
   * not want the detection feature (docs/api.md §11).
   */
  @IsIn(['on', 'off'])
  DETECTIONS: 'on' | 'off' = 'on';

  /** Hit counters and detection events are written in batches at least this often (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(5000)
  DETECTION_FLUSH_MS = 5000;

  /** A console session ends after this many minutes without a request (docs/console.md). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(720)
  SESSION_IDLE_MINUTES = 30;

  /**
   * Where the built console is (index.html and its assets); empty: `console/` beside the
   * compiled server (what `npm run build` writes).
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  CONSOLE_DIR?: string;

  /** How long a verified credential is kept in memory (seconds); bounds cross-instance revocation. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(5)
  AUTH_CACHE_TTL_SECONDS = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  LOCKOUT_PRINCIPAL_FAILURES = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  LOCKOUT_IP_FAILURES = 100;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1440)
  LOCKOUT_WINDOW_MINUTES = 15;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1440)
  LOCKOUT_DURATION_MINUTES = 15;

  /** Lifetime of OAuth2 access tokens issued to API clients (seconds). */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86400)
  OAUTH_TOKEN_TTL_SECONDS = 3600;

  /** Graceful shutdown: how long in-flight requests may take before the process exits. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600)
  SHUTDOWN_TIMEOUT_SECONDS = 20;

  /** Feed runs one instance performs at once (docs/api.md §9). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  FEED_CONCURRENCY = 2;

  /** A feed run (fetch, parse, apply) taking longer is aborted and changes nothing. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  FEED_RUN_TIMEOUT_SECONDS = 600;

  /** How often each instance looks for due feeds (seconds). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  FEED_POLL_SECONDS = 15;

  /** A feed run's lease; renewed while it runs, taken over this long after its instance died. */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(3600)
  FEED_LEASE_SECONDS = 60;

  /**
   * Whether feed URLs may reach loopback, private and link-local addresses. Off by default:
   * feeds are configured by suppliers.write holders, and a feed URL is a request the server
   * makes from inside its network.
   */
  @IsIn(['true', 'false'])
  FEED_ALLOW_PRIVATE_NETWORKS: 'true' | 'false' = 'false';

  // --- Bounded database waits (README "Database waits"; src/database/database-guard.ts) ---

  /** Waiting for a pooled connection, or for a new one to be established (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(10_000)
  DATABASE_ACQUIRE_TIMEOUT_MS = 1500;

  /** statement_timeout of the request path (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(10_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  /** lock_timeout of the request path (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(10_000)
  DATABASE_LOCK_TIMEOUT_MS = 2000;

  /** statement_timeout of uploads, exports and background work (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  DATABASE_LONG_STATEMENT_TIMEOUT_MS = 600_000;

  /** lock_timeout of uploads, exports and background work (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DATABASE_LONG_LOCK_TIMEOUT_MS = 60_000;

  /**
   * While the database is unreachable, principals whose credentials this instance verified
   * and read at most this long ago keep being accepted (docs/security.md); 0: none.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  AUTH_OUTAGE_GRACE_SECONDS = 300;
}

export class ConfigError extends Error {}

/** A request that cannot get its database is answered within this bound (README "Database waits"). */
const MAX_DATABASE_WAIT_MS = 10_000;

/**
 * The longest a request waits for an unreachable database: a connection (or the wait for one),
 * then its statement's timeout and a second's grace; long work, whose statement is checked on
 * by a probe after that, waits for the probe's connection too.
 * @internal exported for tests
 */
export function databaseWaitBoundMs(
  env: Pick<EnvironmentVariables, 'DATABASE_ACQUIRE_TIMEOUT_MS' | 'DATABASE_STATEMENT_TIMEOUT_MS'>,
): number {
  return 2 * env.DATABASE_ACQUIRE_TIMEOUT_MS + env.DATABASE_STATEMENT_TIMEOUT_MS + 1000;
}

function describe(error: ValidationError): string {
  const constraints = Object.values(error.constraints ?? {});
  return `${error.property}: ${constraints.join('; ')} (got ${JSON.stringify(error.value)})`;
}

/** Typed, validated configuration. Injected as `AppConfig`. */
export class AppConfig {
  readonly env: Readonly<EnvironmentVariables>;
  readonly trustedProxies: ReadonlyArray<
    [import('ipaddr.js').IPv4 | import('ipaddr.js').IPv6, number]
  >;

  private constructor(env: EnvironmentVariables, trustedProxies: AppConfig['trustedProxies']) {
    this.env = Object.freeze(env);
    this.trustedProxies = trustedProxies;
  }

  /** Validates `source` (default: process.env); throws ConfigError with one line naming the variable. */
  static load(source: Record<string, string | undefined> = process.env): AppConfig {
    const known = Object.keys(new EnvironmentVariables());
    known.push(
      'DATABASE_URL',
      'TLS_CERT_PATH',
      'TLS_KEY_PATH',
      'ADMIN_PASSWORD',
      'AUDIT_CHAIN_KEY',
      'AUDIT_CHAIN_KEY_FILE',
    );
    const raw: Record<string, string> = {};
    for (const key of known) {
      const value = source[key];
      if (value !== undefined) raw[key] = value;
    }
    const env = plainToInstance(EnvironmentVariables, raw);
    const errors = validateSync(env, { whitelist: true, forbidUnknownValues: true });
    if (errors.length > 0) {
      throw new ConfigError(`Invalid configuration: ${errors.map(describe).join(' | ')}`);
    }
    if (env.AUDIT_CHAIN_KEY !== undefined && env.AUDIT_CHAIN_KEY_FILE !== undefined) {
      throw new ConfigError(
        'Invalid configuration: set AUDIT_CHAIN_KEY or AUDIT_CHAIN_KEY_FILE, not both',
      );
    }
    if ((env.TLS_CERT_PATH === undefined) !== (env.TLS_KEY_PATH === undefined)) {
      throw new ConfigError(
        'Invalid configuration: TLS_CERT_PATH and TLS_KEY_PATH must be set together',
      );
    }
    const waitBound = databaseWaitBoundMs(env);
    if (waitBound > MAX_DATABASE_WAIT_MS) {
      throw new ConfigError(
        `Invalid configuration: 2 × DATABASE_ACQUIRE_TIMEOUT_MS + DATABASE_STATEMENT_TIMEOUT_MS + 1000 is ${waitBound} ms; at most ${MAX_DATABASE_WAIT_MS} (the longest a request may wait for the database)`,
      );
    }
    let proxies: AppConfig['trustedProxies'];
    try {
      proxies = parseCidrList(env.TRUST_PROXY);
    } catch (e) {
      throw new ConfigError(
        `Invalid configuration: TRUST_PROXY: ${(e as Error).message} (expected comma-separated IPs or CIDRs)`,
      );
    }
    return new AppConfig(env, proxies);
  }

  get usesEmbeddedDatabase(): boolean {
    return this.env.DATABASE_URL === undefined;
  }
}
