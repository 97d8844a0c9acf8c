'use strict';
// Runs the @nestjs/swagger CLI plugin inside ts-jest, so tests see the same OpenAPI metadata
// (DTO properties, response types, summaries from comments) as `npm run build` (scripts/build.js) produces.
const plugin = require('@nestjs/swagger/plugin');

module.exports = {
  name: 'nestjs-swagger-transformer',
  // Part of ts-jest's cache key: bump it when the output of this transformer changes.
  version: 2,
  // ts-jest calls the factory for every file it emits. Its `program` field is the one the
  // language service started with, whose type checker cannot resolve types from files added
  // since (response DTOs came out as `Object`), so hand the plugin the current program.
  factory: (tsCompiler, options) =>
    plugin.before(options, tsCompiler._languageService?.getProgram() ?? tsCompiler.program),
};
