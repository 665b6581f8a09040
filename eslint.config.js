import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.tmp/', 'dist/', 'node_modules/', 'coverage/', 'examples/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    // Node 20's recursive mkdir spins forever under /proc (ENOENT, then EEXIST for the parent, again).
    files: ['src/**/*.ts'],
    ignores: ['src/files/make-folder.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name=/^mkdir(Sync)?$/] > ObjectExpression > Property[key.name='recursive']",
          message: 'make folders with their parents through makeFolder (src/files/make-folder.ts).',
        },
      ],
    },
  },
  {
    // The core is pure: no I/O modules, no drivers.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:fs', 'node:fs/*', 'fs', 'node:child_process', 'node:http', 'node:net', 'node:os'],
              message: 'src/core is pure: do I/O in an adapter.',
            },
            {
              group: [
                'better-sqlite3',
                'pg',
                'kysely',
                'hono',
                '@hono/*',
                '../server/*',
                '../runner/*',
                '../cli/*',
                '../client/*',
                '../config/*',
              ],
              message: 'src/core imports nothing of the other layers.',
            },
          ],
        },
      ],
    },
  },
);
