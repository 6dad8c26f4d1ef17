/**
 * The one exit-code table. Shell scripts depend on these numbers: never renumber, only append.
 * README.md's "Exit codes" table mirrors this list.
 */
export const ExitCode = {
  /** Success; for `probe`/`provision`: ready. */
  Ok: 0,
  /** An unexpected failure (a bug): the message says what happened. */
  Unexpected: 1,
  /** Bad usage or configuration: an unknown flag, a malformed env var, an unsupported model id. */
  Usage: 2,
  /** The machine cannot run the model (probe/provision verdict "skipped"), or auto-provisioning is off. */
  Skipped: 3,
  /** The model's weights are unavailable: not cached, not found, gated, or a corrupt/unsupported file. */
  Model: 4,
  /** The runtime failed while loading or serving: engine crash, backend unreachable. */
  Runtime: 5,
  /** Interrupted by SIGINT (128 + 2), as shells expect. */
  Interrupted: 130,
  /** Stopped by SIGHUP (128 + 1): the terminal went away. */
  HangUp: 129,
  /** Stopped by SIGTERM (128 + 15): `kill`, a service manager, a container stop. */
  Terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The hint bin/ prints for an error that brings none of its own: every failure ends with a next step. `command`
 * is the subcommand that ran (for its `--help`). Errors that know better give their own hint.
 */
export function defaultHint(code: number, command: string | undefined): string | undefined {
  const help = command === undefined ? '`atomr-infer --help`' : `\`atomr-infer ${command} --help\``;
  switch (code) {
    case ExitCode.Unexpected:
      return 'this is a bug in atomr-infer: please report it with the command you ran (ATOMR_INFER_DEBUG=1 shows where it happened)';
    case ExitCode.Usage:
      return `see ${help}`;
    case ExitCode.Skipped:
      return 'run `atomr-infer probe` to see what this machine supports';
    case ExitCode.Model:
      return 'fetch the weights with `atomr-infer pull --model <id>`, or repair them with `atomr-infer pull --verify`';
    case ExitCode.Runtime:
      return 'run `atomr-infer probe` to check the runtime this command needs';
    default:
      return undefined;
  }
}

/** Human meanings, used by `--help` and kept in step with README.md. */
export const EXIT_CODE_MEANINGS: ReadonlyArray<readonly [ExitCodeValue, string]> = [
  [ExitCode.Ok, 'success (probe/provision: ready)'],
  [ExitCode.Unexpected, 'unexpected failure'],
  [ExitCode.Usage, 'usage or configuration error'],
  [ExitCode.Skipped, 'skipped: this machine cannot run the model, or auto-provisioning is off'],
  [ExitCode.Model, 'model weights unavailable, gated, not found or corrupt'],
  [ExitCode.Runtime, 'runtime failure while loading or serving'],
  [ExitCode.HangUp, 'stopped by SIGHUP (the terminal closed)'],
  [ExitCode.Interrupted, 'interrupted (Ctrl-C, SIGINT)'],
  [ExitCode.Terminated, 'stopped by SIGTERM'],
];
