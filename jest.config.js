const { SWAGGER_PLUGIN_OPTIONS } = require('./scripts/build.js');

/** @type {import('jest').Config} */
module.exports = {
  // Node's environment plus a log buffer that only failing tests print.
  testEnvironment: '<rootDir>/test/support/quiet-environment.js',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: 'tsconfig.json',
        // module "node20" compiles to CommonJS here (package.json has no "type": "module").
        diagnostics: { ignoreCodes: [151002] },
        astTransformers: {
          before: [
            {
              path: '<rootDir>/test/support/swagger-transformer.js',
              options: SWAGGER_PLUGIN_OPTIONS,
            },
          ],
        },
      },
    ],
    'node_modules/.+\\.js$': '<rootDir>/test/support/esm-to-cjs.transform.js',
  },
  // ESM-only packages that must be transpiled for Jest (see esm-to-cjs.transform.js).
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|file-type|strtok3|token-types|@tokenizer|uint8array-extras)/)',
  ],
  reporters: ['default', '<rootDir>/test/support/skip-reasons-reporter.js'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
};
