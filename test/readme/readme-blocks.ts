/**
 * Reads README.md the way test/readme.e2e.spec.ts runs it. Every ```sh block is one of:
 * - the opening (the file's first block: `npm ci && npm start` / `npm ci && npm test`, what the
 *   spec itself stands for);
 * - `server`: marked `<!-- readme-test:server … -->`, one `VAR=value … npm start` line whose
 *   variables the spec starts its server with;
 * - `run`: between `<!-- walkthrough:start` and `<!-- walkthrough:end -->`, run in order;
 * - `not-run`: marked `<!-- readme-test:not-run REASON -->`, reported as skipped with REASON.
 * Anything else is an error, so no block can be left out unnoticed, and a fence without a
 * language that holds a curl command must say it is `sh`.
 */

export type BlockKind = 'opening' | 'server' | 'run' | 'not-run';

export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  kind: BlockKind;
  code: string;
  /** Why a `not-run` block is not run. */
  reason?: string;
}

const FENCE = /^```(\S*)\n([\s\S]*?)^```$/gm;
const MARKER = /<!--\s*readme-test:(\S+)\s*([^<>]*?)\s*-->\s*$/;

export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const start = markdown.indexOf('<!-- walkthrough:start');
  const end = markdown.indexOf('<!-- walkthrough:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no walkthrough:start/end markers');
  const blocks: ReadmeBlock[] = [];
  let previousEnd = 0;
  for (const m of markdown.matchAll(FENCE)) {
    const at = m.index;
    const line = markdown.slice(0, at).split('\n').length;
    const [whole, lang, code] = m;
    const before = markdown.slice(previousEnd, at);
    previousEnd = at + whole.length;
    if (lang !== 'sh') {
      if (/^\s*curl /m.test(code))
        throw new Error(`README.md:${line}: a block with curl commands must be fenced as sh`);
      continue;
    }
    const marker = MARKER.exec(before);
    const inWalkthrough = at > start && at < end;
    if (marker) {
      const [, kind, reason] = marker;
      if (kind === 'not-run' && reason) blocks.push({ line, kind, code, reason });
      else if (kind === 'server' && !inWalkthrough) blocks.push({ line, kind, code });
      else throw new Error(`README.md:${line}: bad marker readme-test:${kind} ${reason}`);
    } else if (inWalkthrough) {
      blocks.push({ line, kind: 'run', code });
    } else if (blocks.length === 0) {
      blocks.push({ line, kind: 'opening', code });
    } else {
      throw new Error(
        `README.md:${line}: an sh block outside the walkthrough needs <!-- readme-test:not-run REASON -->`,
      );
    }
  }
  return blocks;
}

/** The variables of a `server` block's one `VAR=value … npm start` line. */
export function serverEnv(block: ReadmeBlock): Record<string, string> {
  const m = /^((?:[A-Z][A-Z0-9_]*=\S+ +)*)npm start\s*$/.exec(block.code.trim());
  if (block.kind !== 'server' || !m)
    throw new Error(`README.md:${block.line}: a server block is one line: VAR=value … npm start`);
  return Object.fromEntries(
    m[1]
      .trim()
      .split(/ +/)
      .filter(Boolean)
      .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
}

/**
 * The answers a block shows, in order: a comment `# {…` or `# […` (JSON, continued on the
 * comment lines right after it that start with `#` and two spaces), or `# → text`.
 */
export function shownAnswers(code: string): string[] {
  const answers: string[] = [];
  let json = false;
  for (const line of code.split('\n')) {
    if (json && /^# {2,}\S/.test(line)) {
      answers[answers.length - 1] += line.replace(/^# +/, '');
      continue;
    }
    json = /^# [{[]/.test(line);
    if (json) answers.push(line.slice(2));
    else if (line.startsWith('# → ')) answers.push(line.slice('# → '.length));
  }
  return answers;
}

/** An answer as a pattern for one whole output line: `…` stands for anything. */
function answerPattern(answer: string): RegExp {
  const parts = answer.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*?')}$`);
}

/** The first answer that is not one of the output's lines (taken in order), or undefined. */
export function missingAnswer(output: string, answers: readonly string[]): string | undefined {
  const lines = output.split('\n');
  let from = 0;
  for (const answer of answers) {
    const pattern = answerPattern(answer);
    const at = lines.findIndex((l, i) => i >= from && pattern.test(l));
    if (at < 0) return answer;
    from = at + 1;
  }
  return undefined;
}
