'use strict';
// Runs the @nestjs/swagger CLI plugin inside ts-jest, so tests see the same OpenAPI metadata
// (DTO properties, summaries from comments) as `nest build` produces.
const plugin = require('@nestjs/swagger/plugin');

module.exports = {
  name: 'nestjs-swagger-transformer',
  version: 1,
  factory: (tsCompiler, options) => plugin.before(options, tsCompiler.program),
};
