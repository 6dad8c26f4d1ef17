import { afterAll, beforeAll, vi } from 'vitest';

/**
 * Setup for each file of the `unit` project. Its files share one worker and module graph (no per-file
 * isolation, see vitest.config.ts), so whatever global state a file changes is put back when it ends:
 * process.env and the real timers. Nothing one file does can then change how the next one runs.
 */
let savedEnv: NodeJS.ProcessEnv = {};

beforeAll(() => {
  savedEnv = { ...process.env };
});

afterAll(() => {
  vi.useRealTimers();
  for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
  Object.assign(process.env, savedEnv);
});
