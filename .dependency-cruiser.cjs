/**
 * The dependency rules of ARCHITECTURE.md ("Layout"), checked by `npm run lint`:
 * infra implements ports and imports no module; platform imports neither modules nor infra;
 * a module uses another only through its index.ts; nothing depends on itself in a circle.
 * Tests may reach anywhere; the composition root (src/composition.ts and friends) may too:
 * it is where adapters are chosen. The web app (web/src) reaches the server only over HTTP.
 * Any violation fails the lint.
 */
const notTests = '\\.test\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'infra-imports-no-module',
      comment: 'infra/ implements ports; it never reaches into a feature module.',
      severity: 'error',
      from: { path: '^src/infra/', pathNot: notTests },
      to: { path: '^src/modules/' },
    },
    {
      name: 'platform-imports-no-module',
      comment: 'platform/ is below every module: it imports none.',
      severity: 'error',
      from: { path: '^src/platform/', pathNot: notTests },
      to: { path: '^src/modules/' },
    },
    {
      name: 'platform-imports-no-infra',
      comment: 'platform/ declares ports; adapters in infra/ implement them, never the reverse.',
      severity: 'error',
      from: { path: '^src/platform/', pathNot: notTests },
      to: { path: '^src/infra/' },
    },
    {
      name: 'modules-through-their-index',
      comment: 'A module uses another only through that module’s index.ts.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: notTests },
      to: {
        path: '^src/modules/',
        pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'web-uses-the-public-api-only',
      comment: 'The web app talks to the server over HTTP (api/client.ts), never through its code.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^(src|test|scripts)/' },
    },
    {
      name: 'no-cycles',
      comment: 'A circle of imports has no bottom to start reading (or testing) from.',
      severity: 'error',
      from: { path: '^(src|web)/', pathNot: notTests },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.json'],
    },
  },
};
