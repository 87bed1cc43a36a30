// Lint: TypeScript checks, and the architecture as import rules. Each folder
// of src/ is one layer; a layer may import only the layers listed for it, so
// the floors stay floors: packet formats and addresses at the bottom, the
// packet path and the RIB above them, protocols on the narrow core interface
// (control/), the router that hosts them, then the daemon, the API, the CLI.
// A new import across a boundary fails `npm run lint` (and CI).
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/** Who may import whom (every layer may import itself). */
const LAYERS = {
  net: [],
  wire: ['net'],
  packet: [],
  control: ['wire'],
  config: ['net'],
  routing: ['net'],
  ports: ['control', 'packet', 'wire', 'net'],
  dataplane: ['ports', 'routing', 'packet', 'wire', 'net', 'config'],
  protocols: ['control', 'packet', 'wire', 'net', 'config'],
  router: ['dataplane', 'ports', 'routing', 'control', 'packet', 'wire', 'net', 'config'],
  triggers: ['control', 'net', 'config'],
  api: ['router', 'protocols', 'triggers', 'dataplane', 'routing', 'control', 'packet', 'wire', 'net', 'config'],
  daemon: ['api', 'router', 'protocols', 'triggers', 'dataplane', 'control', 'net', 'config'],
  hosts: ['net'],
  testbed: ['api', 'hosts', 'config', 'net'],
  cli: ['api', 'daemon', 'hosts', 'net'],
};

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': Object.keys(LAYERS).map((layer) => ({ type: layer, pattern: `src/${layer}` })),
    },
    rules: {
      'boundaries/dependencies': [2, {
        default: 'disallow',
        policies: Object.entries(LAYERS).map(([layer, allowed]) => ({
          from: { element: { type: layer } },
          allow: { to: { element: { types: { anyOf: [layer, ...allowed] } } } },
        })),
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Scripts, tests and the entry points sit above every layer.
    files: ['scripts/**', 'test/**', 'bin/**'],
    rules: { 'boundaries/dependencies': 'off' },
  },
);
