'use strict';
/*
 * Compiles src/ the way `nest build` does (tsconfig.build.json + the @nestjs/swagger plugin)
 * into the directory given as argv[2], for tests that run the server as a child process.
 * `nest build` itself refuses an outDir outside the project, and dist/ is not ours to touch.
 * Type errors do not stop it (tsc --noEmit and lint report those): only what breaks emitting.
 * Usage: node test/support/build-server.js <outDir>
 */
const { join, resolve } = require('node:path');
const ts = require('typescript');
const swaggerPlugin = require('@nestjs/swagger/plugin');

const root = resolve(__dirname, '..', '..');
const outDir = resolve(process.argv[2]);
const nestCli = require(join(root, 'nest-cli.json'));
const pluginOptions =
  nestCli.compilerOptions.plugins.find((p) => p.name === '@nestjs/swagger')?.options ?? {};

const configPath = join(root, 'tsconfig.build.json');
const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
if (error) fail([error]);
const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, { outDir }, configPath);
if (parsed.errors.length > 0) fail(parsed.errors);

const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const emitted = program.emit(undefined, undefined, undefined, false, {
  before: [swaggerPlugin.before(pluginOptions, program)],
});
const diagnostics = [...program.getSyntacticDiagnostics(), ...emitted.diagnostics];
if (diagnostics.length > 0 || emitted.emitSkipped) fail(diagnostics);

function fail(diags) {
  process.stderr.write(
    ts.formatDiagnostics(diags, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }),
  );
  process.exit(1);
}
