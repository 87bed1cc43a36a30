// Lint: TypeScript checks, and the architecture as import rules. Each folder
// of src/ is one layer; a layer may import only the layers listed for it, so
// the floors stay floors: packet formats and addresses at the bottom, the
// packet path and the RIB above them, protocols on the narrow core interface
// (control/), the router that hosts them, then the daemon, the API, the CLI.
// A new import across a boundary fails `npm run lint` (and CI).
// The same run checks the layout (@stylistic: indent, quotes, semicolons,
// spacing, trailing commas); `npm run format` rewrites a file to it.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
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
    files: ['**/*.ts', '**/*.js'],
    ...stylistic.configs.customize({ indent: 2, quotes: 'single', semi: true, braceStyle: '1tbs', commaDangle: 'always-multiline', arrowParens: true, quoteProps: 'as-needed' }),
  },
  {
    // The house layout keeps short statements and lists on one line where they
    // read as one thing (a packet field's getter and setter, a table row).
    files: ['**/*.ts', '**/*.js'],
    rules: {
      '@stylistic/list-style': 'off',
      '@stylistic/max-statements-per-line': 'off',
      '@stylistic/operator-linebreak': 'off',
      '@stylistic/lines-between-class-members': 'off',
      '@stylistic/multiline-ternary': 'off',
      '@stylistic/indent-binary-ops': 'off',
      '@stylistic/generator-star-spacing': ['error', { before: false, after: true, method: { before: true, after: false } }],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
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
