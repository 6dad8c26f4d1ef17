import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** UI and CLI frameworks that only the top layers (src/cli, src/ui) may import. */
const UPPER_LAYER_PACKAGES = ['ink', 'ink-*', 'react', 'react/*', 'commander'];
/** Heavy native/bridge modules: `probe` and `--help` must never pay for them, so only lazy `import()` is allowed. */
const HEAVY_PACKAGES = ['node-llama-cpp', 'pythonia'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Lower layers never reach up: no CLI/UI frameworks, no imports of src/cli or src/ui.
    files: ['src/core/**', 'src/probe/**', 'src/hub/**', 'src/runners/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: UPPER_LAYER_PACKAGES, message: 'Lower layers must not import CLI/UI frameworks.' },
            { group: ['**/cli/**', '**/ui/**'], message: 'Lower layers must not import src/cli or src/ui.' },
            {
              group: HEAVY_PACKAGES,
              allowTypeImports: true,
              message: 'Load native/bridge runtimes lazily with `await import()`.',
            },
          ],
        },
      ],
    },
  },
  {
    // serve/bench sit beside the CLI: they may use the runners but never the terminal UI.
    files: ['src/serve/**', 'src/bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['ink', 'ink-*', 'react', 'react/*'],
              message: 'serve/bench must not import the terminal UI.',
            },
            { group: ['**/ui/**', '**/cli/**'], message: 'serve/bench must not import src/ui or src/cli.' },
            {
              group: HEAVY_PACKAGES,
              allowTypeImports: true,
              message: 'Load native/bridge runtimes lazily with `await import()`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'src/ui/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: HEAVY_PACKAGES,
              allowTypeImports: true,
              message: 'Load native/bridge runtimes lazily with `await import()`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**', 'bench/**', 'probes/**', 'test/**', '*.js', '*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly' },
    },
  },
);
