import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const WEB = join(ROOT, 'web');
const CACHE = join(ROOT, 'node_modules', '.cache', 'indicium-console');
/** A cold Vite build on a busy 2-core machine; hooks that call buildConsole() get this much. */
export const CONSOLE_BUILD_TIMEOUT_MS = 180_000;

/** Files of web/ that shape the build (not its own output or dependencies). */
function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    if (['node_modules', 'dist', '.vite'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A digest of web/ (paths and contents) and of package-lock.json (the versions of Vite & co). */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of [...sources(WEB), join(ROOT, 'package-lock.json')]) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * Vite's JS API (`build()` with web/vite.config.mts and `build.outDir` overridden), run in a
 * child node: Vite is ESM with native bindings, which Jest's module loader does not host well.
 */
function viteBuild(outDir: string): Promise<void> {
  const script = [
    "const { build } = await import('vite');",
    'await build({',
    `  configFile: ${JSON.stringify(join(WEB, 'vite.config.mts'))},`,
    "  logLevel: 'warn',",
    `  build: { outDir: ${JSON.stringify(outDir)}, emptyOutDir: true },`,
    '});',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`vite build failed (${code}):\n${output}`)),
    );
  });
}

/**
 * The console built for tests, once per content of web/: the directory holding index.html,
 * for createTestApp({ CONSOLE_DIR }). Built into a private temporary directory and renamed
 * into place, so a concurrent jest process sees either no build or a whole one.
 */
export async function buildConsole(): Promise<string> {
  if (!existsSync(join(WEB, 'vite.config.mts')))
    throw new Error(`${WEB}/vite.config.mts is missing: the console sources are not there`);
  const dir = join(CACHE, sourceHash());
  if (existsSync(join(dir, 'index.html'))) return dir;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await viteBuild(tmp);
    if (!existsSync(join(tmp, 'index.html'))) throw new Error(`vite wrote no ${tmp}/index.html`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process renamed its (identical) build into place first.
      if (!existsSync(join(dir, 'index.html'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
