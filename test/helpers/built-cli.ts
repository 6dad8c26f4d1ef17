import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by the `cli` project's global setup, which builds dist/ before its tests run. */
    builtCli: boolean;
  }
}

/**
 * Called by every helper that runs the built CLI or imports dist/. Outside the `cli` project nothing builds
 * dist/ first, so such a test would quietly run stale (or missing) code: fail at once and say where it belongs.
 */
export function requireBuiltCli(): void {
  if (inject('builtCli')) return;
  throw new Error(
    'this test runs the built CLI (dist/), which only the vitest "cli" project builds first: put the file under ' +
      'test/cli/ or test/e2e/, or list it as cli in vitest.config.ts',
  );
}
