'use strict';
/*
 * NestJS 12 packages are ESM-only. Node (>= 20.19) loads them from CommonJS through
 * require(esm), but Jest's module loader only does so on Node >= 24.9, so under Jest we
 * transpile those packages to CommonJS. `import.meta.url` becomes the CommonJS equivalent.
 */
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const code = source
      .replace(/const require = createRequire\(import\.meta\.url\);?/g, '')
      .replace(/import\.meta\.url/g, 'require("node:url").pathToFileURL(__filename).href')
      .replace(/import\.meta\.resolve\(/g, 'require.resolve(')
      .replace(/import\.meta\.dirname/g, '__dirname')
      .replace(/import\.meta\.filename/g, '__filename');
    const out = ts.transpileModule(code, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    return { code: out.outputText };
  },
  getCacheKey(source, filename) {
    return require('node:crypto')
      .createHash('sha256')
      .update('v3\0' + filename + '\0' + source)
      .digest('hex');
  },
};
