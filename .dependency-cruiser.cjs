// Import rules (docs/extending.md): dependencies point one way, foundation → features.
// Run by `npm run lint` (as `npm run lint:deps`); any violation fails it.
const FOUNDATION = '^src/(common|config|database|indicators)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle ties modules together so neither can change or load alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      comment: 'Top-level folders depend on each other one way too (no audit ↔ auth).',
      scope: 'folder',
      from: { path: '^src/[^/]+$' },
      to: { path: '^src/[^/]+$', circular: true },
    },
    {
      name: 'foundation-not-to-features',
      severity: 'error',
      comment:
        'Foundation folders (common, config, database, indicators) serve every feature and import none.',
      from: { path: FOUNDATION },
      to: { path: '^src/', pathNot: FOUNDATION },
    },
    {
      name: 'config-is-the-base',
      severity: 'error',
      comment: 'Configuration is read by everything, so it imports no other project folder.',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/config/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
