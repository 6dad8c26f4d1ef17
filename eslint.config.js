import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** UI and CLI frameworks that only the top layers (src/cli, src/ui) may import. */
const UPPER_LAYER_PACKAGES = ['ink', 'ink-*', 'react', 'react/*', 'commander'];
/** Heavy native/bridge modules: `probe` and `--help` must never pay for them, so only lazy `import()` is allowed. */
const HEAVY_PACKAGES = ['node-llama-cpp', 'pythonia'];
/** The terminal UI packages: only src/cli, src/ui and src/chat may use them. */
const TERMINAL_UI_PACKAGES = ['ink', 'ink-*', 'react', 'react/*'];
/** What sits above the lower tier (core, hub, probe, runners). */
const ABOVE_LOWER_TIER = ['serve', 'bench', 'chat', 'cli', 'ui'];

/**
 * One layer's import rule: the folders of src/ it must not import, the packages it must not import, and (for every
 * layer) the heavy runtimes only as lazy `import()`. One rule object per layer, since a later
 * `no-restricted-imports` replaces an earlier one instead of adding to it.
 */
function layer(files, forbiddenFolders, forbiddenPackages) {
  const patterns = [
    {
      group: HEAVY_PACKAGES,
      allowTypeImports: true,
      message: 'Load native/bridge runtimes lazily with `await import()`.',
    },
  ];
  if (forbiddenPackages.length > 0) {
    patterns.push({ group: forbiddenPackages, message: 'This layer must not import CLI/UI frameworks.' });
  }
  if (forbiddenFolders.length > 0) {
    patterns.push({
      group: forbiddenFolders.map((folder) => `**/${folder}/**`),
      message: `${files.join(', ')} must not import src/{${forbiddenFolders.join(',')}} (see the layers in README.md).`,
    });
  }
  return { files, rules: { 'no-restricted-imports': ['error', { patterns }] } };
}

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
  // The layers (README "Architecture"): each folder lists what it must not import. Top: cli, ui. Beside them: serve,
  // bench, and chat (the conversation both chat faces use). Below, in order: core ← hub ← probe, runners.
  layer(['src/core/**'], ['hub', 'probe', 'runners', ...ABOVE_LOWER_TIER], UPPER_LAYER_PACKAGES),
  layer(['src/hub/**'], ['probe', 'runners', ...ABOVE_LOWER_TIER], UPPER_LAYER_PACKAGES),
  layer(['src/probe/**'], ['runners', ...ABOVE_LOWER_TIER], UPPER_LAYER_PACKAGES),
  layer(['src/runners/**'], ['probe', ...ABOVE_LOWER_TIER], UPPER_LAYER_PACKAGES),
  layer(['src/serve/**', 'src/bench/**'], ['cli', 'ui', 'chat'], TERMINAL_UI_PACKAGES),
  layer(['src/chat/**'], ['cli', 'ui', 'serve', 'bench'], UPPER_LAYER_PACKAGES),
  layer(['src/ui/**'], ['cli'], []),
  layer(['src/cli/**'], [], []),
  {
    // Type-aware rules for the async code: a promise nobody awaits loses its error (an unhandled rejection ends
    // the process with a stack trace); an async callback where a sync one is expected does the same.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['bin/**', 'bench/**', 'probes/**', 'test/**', '*.js', '*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', URL: 'readonly' },
    },
  },
);
