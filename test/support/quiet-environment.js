'use strict';
/*
 * Jest's node environment plus a log buffer: servers under test (the in-process app of
 * test-app.ts, the child processes of server-process.ts) write their log lines into it through
 * `globalThis.__indiciumTestLog` instead of stdout. A failing test, or a failing hook, prints
 * what was logged since the previous test ended; a passing test drops it. So `npm test` shows
 * Jest's own lines, and a failure comes with what the server said.
 */
const { TestEnvironment } = require('jest-environment-node');

/** Enough for the lines around a failure; the oldest go first. */
const KEEP_BYTES = 256 * 1024;
const SETTLE_MS = 200;

class QuietEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.lines = [];
    this.bytes = 0;
    this.global.__indiciumTestLog = (text) => this.keep(String(text));
  }

  keep(text) {
    this.lines.push(text);
    this.bytes += text.length;
    while (this.bytes > KEEP_BYTES && this.lines.length > 1) {
      this.bytes -= this.lines.shift().length;
    }
  }

  drop() {
    this.lines = [];
    this.bytes = 0;
  }

  print(what) {
    if (this.lines.length > 0) {
      const text = this.lines.join('');
      const body = text.endsWith('\n') ? text : `${text}\n`;
      process.stderr.write(
        `\n---- server log before the failure of ${what} (${this.testPath}) ----\n${body}` +
          '---- end of server log ----\n',
      );
    }
    this.drop();
  }

  async handleTestEvent(event) {
    if (event.name === 'test_done') {
      if (event.test.errors.length === 0) return this.drop();
      await settle();
      this.print(`"${fullName(event.test)}"`);
    } else if (event.name === 'hook_failure') {
      await settle();
      this.print(`a ${event.hook.type} hook`);
    }
  }
}

/** A child server's last lines may still be in its pipe when the test fails. */
function settle() {
  return new Promise((done) => setTimeout(done, SETTLE_MS));
}

function fullName(test) {
  const names = [];
  for (let block = test; block && block.name !== 'ROOT_DESCRIBE_BLOCK'; block = block.parent) {
    names.unshift(block.name);
  }
  return names.join(' › ');
}

module.exports = QuietEnvironment;
