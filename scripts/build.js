'use strict';
/*
 * `npm run build`: compiles src/ into dist/ with the TypeScript compiler and the
 * @nestjs/swagger plugin, which gives DTOs and routes their OpenAPI metadata (properties,
 * types, summaries from comments). This is what `nest build` did, without the Nest CLI, whose
 * tool chain (@angular-devkit, @nestjs/schematics, commander) needs Node 22.
 *
 *   node scripts/build.js                        empties dist/, builds; type errors fail it
 *   node scripts/build.js --watch                builds on every change and (re)starts
 *                                                dist/main.js with node --watch (npm run start:dev)
 *   node scripts/build.js --out-dir <dir> --no-type-check --no-console
 *                                                for tests that run the server as a process
 *                                                while others edit: only what breaks emitting fails
 *
 * After the server, the web console (web/, docs/console.md) is built with Vite into
 * <dist>/console, which the server serves at /console/ (--no-console skips it).
 */
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = resolve(__dirname, '..');
const configPath = join(root, 'tsconfig.build.json');

/** The swagger plugin's options; jest.config.js uses the same for the in-process app. */
const SWAGGER_PLUGIN_OPTIONS = { introspectComments: true, classValidatorShim: true };

function main(argv) {
  const ts = require('typescript');
  const args = parseArgs(argv);
  const outDir = args.outDir ? resolve(args.outDir) : undefined;
  const parsed = readConfig(ts, outDir);
  rmSync(parsed.options.outDir, { recursive: true, force: true });
  if (args.watch) {
    // The console is built once; `npx vite build --config web/vite.config.mts --watch` rebuilds it.
    if (args.console) void buildConsole(join(parsed.options.outDir, 'console'));
    return watch(ts, outDir, parsed.options.outDir);
  }
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const emitted = emit(program, program);
  const diagnostics = [
    ...(args.typeCheck ? ts.getPreEmitDiagnostics(program) : program.getSyntacticDiagnostics()),
    ...emitted.diagnostics,
  ];
  if (diagnostics.length > 0 || emitted.emitSkipped) {
    report(ts, diagnostics);
    process.exit(1);
  }
  if (args.console) return buildConsole(join(parsed.options.outDir, 'console'));
}

/** The console: Vite builds web/ (its own config and tsconfig) into outDir. */
async function buildConsole(outDir) {
  const { build } = await import('vite');
  try {
    await build({
      configFile: join(root, 'web', 'vite.config.mts'),
      build: { outDir, emptyOutDir: true },
      logLevel: 'warn',
    });
  } catch (err) {
    process.stderr.write(`build: the console did not build: ${err?.message ?? err}\n`);
    process.exit(1);
  }
}

function parseArgs(argv) {
  const args = { outDir: undefined, typeCheck: true, watch: false, console: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out-dir' && argv[i + 1]) args.outDir = argv[++i];
    else if (argv[i] === '--no-type-check') args.typeCheck = false;
    else if (argv[i] === '--watch') args.watch = true;
    else if (argv[i] === '--no-console') args.console = false;
    else {
      process.stderr.write(`build: unknown argument ${argv[i]}\n`);
      process.exit(2);
    }
  }
  return args;
}

function readConfig(ts, outDir) {
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) fail(ts, [error]);
  const parsed = ts.parseJsonConfigFileContent(
    config,
    ts.sys,
    root,
    outDir ? { outDir } : {},
    configPath,
  );
  if (parsed.errors.length > 0) fail(ts, parsed.errors);
  return parsed;
}

/** Emits `target` (a program or a builder program) with the swagger plugin over `program`. */
function emit(target, program) {
  const swaggerPlugin = require('@nestjs/swagger/plugin');
  return target.emit(undefined, undefined, undefined, false, {
    before: [swaggerPlugin.before(SWAGGER_PLUGIN_OPTIONS, program)],
  });
}

function watch(ts, outDir, outPath) {
  let server;
  const host = ts.createWatchCompilerHost(
    configPath,
    outDir ? { outDir } : {},
    ts.sys,
    ts.createEmitAndSemanticDiagnosticsBuilderProgram,
    (d) => report(ts, [d]),
    (d) => process.stdout.write(`${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n`),
  );
  host.afterProgramCreate = (builder) => {
    const emitted = emit(builder, builder.getProgram());
    report(ts, [...builder.getSemanticDiagnostics(), ...emitted.diagnostics]);
    // node --watch restarts the server whenever a file it loaded changes.
    server ??= spawn(process.execPath, ['--watch', join(outPath, 'main.js')], {
      cwd: root,
      stdio: 'inherit',
    });
  };
  ts.createWatchProgram(host);
}

function report(ts, diagnostics) {
  if (diagnostics.length === 0) return;
  const format = process.stderr.isTTY
    ? ts.formatDiagnosticsWithColorAndContext
    : ts.formatDiagnostics;
  process.stderr.write(
    format(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => root,
      getNewLine: () => '\n',
    }),
  );
}

function fail(ts, diagnostics) {
  report(ts, diagnostics);
  process.exit(1);
}

module.exports = { SWAGGER_PLUGIN_OPTIONS };

if (require.main === module) main(process.argv.slice(2));
