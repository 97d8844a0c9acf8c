'use strict';
/*
 * Every skipped test must say why. A spec that skips says so at collection time with
 * console.warn (as the Swagger UI browser test does without Chromium); Jest's default reporter
 * prints nothing of a file whose every test was skipped, not even its console output, so this
 * reporter prints those warnings. A file that skips tests without any warning is named too,
 * and under CI it fails the run: a suite that silently stops running is a regression no one
 * sees. (Locally, `-t` and `.only` skip tests on purpose.) With one test file Jest prints
 * console output as it happens instead, and result.console is undefined.
 */
const { relative } = require('node:path');

const SKIPPED = new Set(['pending', 'skipped', 'todo']);

class SkipReasonsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.strict = Boolean(process.env.CI);
    this.unexplained = [];
  }

  onTestResult(_test, result) {
    const skipped = result.testResults.filter((t) => SKIPPED.has(t.status));
    if (skipped.length === 0 || !result.console) return;
    const file = relative(this.rootDir, result.testFilePath);
    const reasons = result.console.filter((entry) => entry.type === 'warn');
    for (const entry of reasons) process.stderr.write(`WARNING ${file}: ${entry.message}\n`);
    if (reasons.length > 0) return;
    this.unexplained.push(file);
    process.stderr.write(
      `WARNING ${file}: ${skipped.length} test(s) skipped without a reason ` +
        `(console.warn one when skipping): ${skipped.map((t) => t.fullName).join('; ')}\n`,
    );
  }

  getLastError() {
    if (!this.strict || this.unexplained.length === 0) return undefined;
    return new Error(`tests skipped without a reason in ${this.unexplained.join(', ')}`);
  }
}

module.exports = SkipReasonsReporter;
