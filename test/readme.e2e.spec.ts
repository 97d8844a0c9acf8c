import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  killAll,
  ServerProcess,
  TestDatabase,
} from './support/server-process';
import { ADMIN_PASSWORD } from './support/test-app';

/**
 * The README's walkthrough, run as a reader would: every ```sh block between the
 * walkthrough:start and walkthrough:end markers, in order, in one bash, against a fresh server.
 * Only the first block's `BASE=` and `PW=` lines are replaced (this server, its password).
 * Each block must succeed (curl fails on any 4xx/5xx here), and every sample response the
 * README shows in full (`# {…}` without an ellipsis) must be what the block printed.
 */

const README = join(__dirname, '..', 'README.md');
const MARK = '@@readme-block ';
const RUN_TIMEOUT_MS = 60_000;

/** The walkthrough's ```sh blocks, in order. */
function walkthroughBlocks(markdown: string): string[] {
  const start = markdown.indexOf('<!-- walkthrough:start');
  const end = markdown.indexOf('<!-- walkthrough:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no walkthrough:start/end markers');
  const section = markdown.slice(start, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The first block with this server's address and password in place of the reader's. */
function localise(block: string, base: string): string {
  const lines = block.split('\n');
  const base_ = lines.findIndex((l) => /^BASE=/.test(l));
  const pw = lines.findIndex((l) => /^PW=/.test(l));
  if (base_ < 0 || pw < 0) throw new Error('the first walkthrough block must set BASE= and PW=');
  lines[base_] = `BASE='${base}'`;
  lines[pw] = `PW='${ADMIN_PASSWORD}'`;
  return lines.join('\n');
}

/**
 * One bash script: strict mode, curl failing on HTTP errors (the reader sees the error body;
 * here it must stop the walkthrough), a marker line before each block, and the block that
 * failed named on stderr.
 */
function script(blocks: string[]): string {
  return [
    'set -eEuo pipefail',
    'shopt -s inherit_errexit',
    'block=0',
    `trap 'echo "README walkthrough block $block failed (exit $?): $BASH_COMMAND" >&2' ERR`,
    // -q: no ~/.curlrc. A newline after each body keeps the outputs apart.
    'curl() { command curl -q --fail-with-body --silent --show-error "$@" || { local s=$?; echo "curl $*" >&2; return $s; }; echo; }',
    ...blocks.flatMap((b, i) => [`block=${i}`, `echo '${MARK}${i}'`, b]),
    `echo '${MARK}end'`,
  ].join('\n');
}

function runBash(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'bash',
      [file],
      {
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), LC_ALL: 'C.UTF-8' },
        timeout: RUN_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The output of each block, by index, split at the marker lines. */
function outputsByBlock(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of stdout.split(MARK).slice(1)) {
    const nl = part.indexOf('\n');
    out.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return out;
}

/** The sample responses a block shows in full: comment lines `# {…}` with no ellipsis. */
function shownResponses(block: string): string[] {
  return block
    .split('\n')
    .filter((l) => /^# \{.*\}$/.test(l) && !l.includes('…'))
    .map((l) => l.slice(2));
}

describe('README walkthrough', () => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    db = await createDatabase();
    server = await ServerProcess.start({ databaseUrl: db.url });
    dir = mkdtempSync(join(tmpdir(), 'indicium-readme-'));
  });

  afterAll(async () => {
    await killAll([server]);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs block after block against a fresh server and shows what the server answers', async () => {
    const blocks = walkthroughBlocks(readFileSync(README, 'utf8'));
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const runnable = [localise(blocks[0], server!.base), ...blocks.slice(1)];
    const file = join(dir, 'walkthrough.sh');
    writeFileSync(file, script(runnable));

    const run = await runBash(file);
    // The server's log comes with a failure too (test/support/quiet-environment.js).
    if (run.code !== 0) {
      throw new Error(
        `README walkthrough failed (exit ${run.code}):\n${run.stderr}\n--- stdout ---\n${run.stdout}`,
      );
    }
    const outputs = outputsByBlock(run.stdout);
    expect([...outputs.keys()]).toEqual([...blocks.map((_, i) => String(i)), 'end']);

    blocks.forEach((block, i) => {
      for (const shown of shownResponses(block)) expect(outputs.get(String(i))).toContain(shown);
    });

    // The main job: every verdict, each found the way the README says.
    const all = run.stdout;
    for (const verdict of ['detected', 'not_detected', 'false_positive', 'invalid'])
      expect(all).toContain(`"result":"${verdict}"`);
    for (const how of ['host', 'cidr', 'url_prefix', 'exact'])
      expect(all).toContain(`"matchedBy":"${how}"`);
    expect(all).toContain('"falsePositive":{"supplier":"FalsePositive"');
    expect(all).toContain('"actionable":{"threat":"phishing"}');
    // Administration: the Bearer token is the API client's, and the last block (after the
    // password change) is still the admin.
    expect(all).toContain('"type":"client","id"');
    expect(outputs.get(String(blocks.length - 1))).toContain('"type":"user"');
    expect(outputs.get(String(blocks.length - 1))).toContain('"name":"admin"');
  });
});
