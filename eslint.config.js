import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/.corpus/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The hot path is pure: bytes → delta → policy. No I/O, clock, logger or SDK imports.
    files: ['workers/**/*.ts', 'src/catalog/**/*.ts', 'src/policy/**/*.ts'],
    ignores: ['src/catalog/load.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:fs',
                'node:fs/*',
                'fs',
                'node:net',
                'node:http',
                'pino',
                '@aws-sdk/*',
                'lmdb',
                'ioredis',
                'prom-client',
              ],
              message: 'pure module: no I/O here (STYLE.md habit 1)',
            },
          ],
        },
      ],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    // The web view's script runs in the browser, as is (no bundler): browser globals, no Node ones.
    files: ['src/http/web/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'navigator',
          'location',
          'history',
          'sessionStorage',
          'fetch',
          'URLSearchParams',
          'AbortController',
          'setTimeout',
          'setInterval',
          'clearInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
