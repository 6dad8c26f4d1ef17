import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * The root of every error the CLI reports on purpose. `message` is one line naming what is wrong and what is
 * accepted; `hint` is the next thing the user can do. Only bin/ catches these and turns them into an exit code.
 */
export class AtomrError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  /** Stable machine-readable identifier for `--json` consumers. */
  readonly code: string;

  constructor(
    message: string,
    options: { hint?: string; code?: string; exitCode?: ExitCodeValue; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.code = options.code ?? 'error';
    this.exitCode = options.exitCode ?? ExitCode.Unexpected;
  }
}

/** A bad flag, argument or environment value (exit 2). */
export class UsageError extends AtomrError {
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, { code: 'usage', ...options, exitCode: ExitCode.Usage });
  }
}

/** A malformed `ATOMR_INFER_*` / `HF_*` environment value or config file (exit 2). */
export class ConfigError extends AtomrError {
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, { code: 'config', ...options, exitCode: ExitCode.Usage });
  }
}

/** The machine can't run the requested model/runtime, or auto-provisioning is off (exit 3). */
export class SkippedError extends AtomrError {
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, { code: 'skipped', ...options, exitCode: ExitCode.Skipped });
  }
}

/** Weights missing from the cache, not on the Hub, gated, or a corrupt/unsupported model file (exit 4). */
export class ModelError extends AtomrError {
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, { code: 'model', ...options, exitCode: ExitCode.Model });
  }
}

/** The runtime failed: engine crashed, bridge died, remote endpoint unreachable (exit 5). */
export class RuntimeFailure extends AtomrError {
  constructor(message: string, options: { hint?: string; code?: string; cause?: unknown } = {}) {
    super(message, { code: 'runtime', ...options, exitCode: ExitCode.Runtime });
  }
}

/**
 * A call on a runner after dispose(): the same condition, so the same error and code, on every runner (serve
 * and the tests tell it from an engine that died, which each runner reports in its own words).
 */
export function runnerDisposed(runner: string): RuntimeFailure {
  return new RuntimeFailure(`the ${runner} runner has been disposed`, { code: 'runner-disposed' });
}

/** A stop signal ended the work: Ctrl-C (130), SIGTERM (143) or SIGHUP (129) — see src/core/stop-signals.ts. */
export class InterruptedError extends AtomrError {
  constructor(message = 'interrupted', exitCode: ExitCodeValue = ExitCode.Interrupted) {
    super(message, { code: 'interrupted', exitCode });
  }
}

export function isAtomrError(error: unknown): error is AtomrError {
  return error instanceof AtomrError;
}
