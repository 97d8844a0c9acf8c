'use strict';
/*
 * Jest's default reporter prints nothing of a test file whose every test was skipped, not even
 * its console output, so a file that says at collection time why it skips itself
 * (console.warn, as the Swagger UI browser test does without Chromium) would go unheard in a
 * full run. This reporter prints those warnings. With one test file Jest prints console
 * output as it happens instead, and result.console is empty.
 */
const { relative } = require('node:path');

class SkipReasonsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onTestResult(_test, result) {
    if (!result.skipped || !result.console) return;
    for (const entry of result.console) {
      if (entry.type !== 'warn') continue;
      process.stderr.write(
        `WARNING ${relative(this.rootDir, result.testFilePath)}: ${entry.message}\n`,
      );
    }
  }
}

module.exports = SkipReasonsReporter;
