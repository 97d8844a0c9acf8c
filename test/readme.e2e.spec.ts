import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, killAll, ServerProcess, TestDatabase } from './support/server-process';
import { ADMIN_PASSWORD } from './support/test-app';
import {
  missingAnswer,
  ReadmeBlock,
  readmeBlocks,
  serverEnv,
  shownAnswers,
} from './readme/readme-blocks';

/**
 * The README run as a reader would (test/readme/readme-blocks.ts says which block is what):
 * every ```sh block of the walkthrough, in order, in one bash, against a fresh server started
 * with the variables of the README's `server` block. Only the first block's `BASE=` and `PW=`
 * lines are replaced (this server, its password). Each block must succeed (curl fails on any
 * 4xx/5xx unless the command prints the status itself with -w %{http_code}), and every answer
 * a block shows must be a line of what it printed. Blocks marked not-run are reported as
 * skipped, with their reason.
 */

const README = join(__dirname, '..', 'README.md');
const MARK = '@@readme-block ';
const RUN_TIMEOUT_MS = 180_000;

const blocks = readmeBlocks(readFileSync(README, 'utf8'));

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
 * One bash script: strict mode, a curl that fails on HTTP errors unless the command asks for
 * the status (the reader sees the error body; here it must stop the run) and ends each body
 * with a newline, a marker line before each block, and the block that failed named on stderr.
 */
function script(runnable: string[]): string {
  return [
    'set -eEuo pipefail',
    'shopt -s inherit_errexit',
    'block=0',
    `trap 'echo "README block $block failed (exit $?): $BASH_COMMAND" >&2' ERR`,
    // -q: no ~/.curlrc.
    'curl() {',
    `  case " $* " in`,
    `    *'%{http_code}'*) command curl -q --silent --show-error "$@" ;;`,
    `    *) command curl -q --fail-with-body --silent --show-error "$@" || { local s=$?; echo "curl $*" >&2; return $s; } ;;`,
    '  esac',
    '  echo',
    '}',
    ...runnable.flatMap((b, i) => [`block=${i}`, `echo '${MARK}${i}'`, b]),
    `echo '${MARK}end'`,
  ].join('\n');
}

function runBash(
  file: string,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      'bash',
      [file],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: cwd, LC_ALL: 'C.UTF-8' },
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

const ofKind = (kind: ReadmeBlock['kind']): ReadmeBlock[] => blocks.filter((b) => b.kind === kind);

describe('README blocks', () => {
  it('opens with the two commands a new reader types, then one server block', () => {
    expect(blocks[0].kind).toBe('opening');
    expect(blocks[0].code.split('\n').map((l) => l.replace(/ +#.*$/, ''))).toEqual([
      'npm ci && npm start',
      'npm ci && npm test',
      '',
    ]);
    expect(ofKind('server')).toHaveLength(1);
    expect(serverEnv(ofKind('server')[0])).toEqual({ FEED_ALLOW_PRIVATE_NETWORKS: 'true' });
    expect(ofKind('run').length).toBeGreaterThanOrEqual(15);
  });

  it('marks a block it leaves out, and matches answers line by line with … as a wildcard', () => {
    const walk = (inner: string) =>
      `<!-- walkthrough:start -->\n${inner}\n<!-- walkthrough:end -->\n`;
    expect(() =>
      readmeBlocks(`${walk('')}\`\`\`sh\nnpm ci\n\`\`\`\n\`\`\`sh\nls\n\`\`\`\n`),
    ).toThrow(/README.md:7: an sh block outside the walkthrough needs/);
    expect(() => readmeBlocks(walk('```\ncurl -k "$BASE"\n```'))).toThrow(/fenced as sh/);
    expect(() => readmeBlocks(walk('<!-- readme-test:not-run -->\n```sh\nls\n```'))).toThrow(
      /bad marker/,
    );
    const answers = shownAnswers('x\n# {"a":1,…,\n#  "c":3}\n# prose\n# → 304\n');
    expect(answers).toEqual(['{"a":1,…,"c":3}', '304']);
    expect(missingAnswer('{"a":1,"b":2,"c":3}\n304\n', answers)).toBeUndefined();
    expect(missingAnswer('304\n{"a":1,"b":2,"c":3}\n', answers)).toBe('304');
    expect(missingAnswer('{"a":2,"c":3}\n304\n', answers)).toBe('{"a":1,…,"c":3}');
  });

  for (const b of ofKind('not-run').concat(ofKind('opening'))) {
    const why = b.reason ?? 'the opening: this spec is part of npm test and starts its own server';
    it.skip(`README.md:${b.line} is not run: ${why}`, () => undefined);
  }
});

describe('README walkthrough', () => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    db = await createDatabase();
    server = await ServerProcess.start({
      databaseUrl: db.url,
      env: serverEnv(ofKind('server')[0]),
    });
    dir = mkdtempSync(join(tmpdir(), 'indicium-readme-'));
  }, 240_000);

  afterAll(async () => {
    await killAll([server]);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'runs block after block against a fresh server and shows what the server answers',
    async () => {
      const run = ofKind('run');
      const runnable = [localise(run[0].code, server!.base), ...run.slice(1).map((b) => b.code)];
      const file = join(dir, 'walkthrough.sh');
      writeFileSync(file, script(runnable));

      const result = await runBash(file, dir);
      // The server's log comes with a failure too (test/support/quiet-environment.js).
      if (result.code !== 0) {
        throw new Error(
          `README walkthrough failed (exit ${result.code}):\n${result.stderr}\n--- stdout ---\n${result.stdout}`,
        );
      }
      const outputs = outputsByBlock(result.stdout);
      expect([...outputs.keys()]).toEqual([...run.map((_, i) => String(i)), 'end']);

      // Each answer a block shows, with what the block printed when it is not there.
      const missing = run.flatMap((b, i) => {
        const printed = outputs.get(String(i))!;
        const answer = missingAnswer(printed, shownAnswers(b.code));
        return answer === undefined
          ? []
          : [`README.md:${b.line}: not printed: ${answer}\n--- the block printed ---\n${printed}`];
      });
      expect(missing).toEqual([]);

      // The main job: every verdict, each found the way the README says.
      for (const verdict of ['detected', 'not_detected', 'false_positive', 'invalid'])
        expect(result.stdout).toContain(`"result":"${verdict}"`);
      for (const how of ['host', 'cidr', 'url_prefix', 'exact', 'parent_domain'])
        expect(result.stdout).toContain(`"matchedBy":"${how}"`);
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
