/**
 * The one way the tool runs other programs: argument arrays (never a shell), a timeout, never throwing on
 * a non-zero exit. Tests swap in a fake `CommandRunner` or put fake executables first on PATH.
 */

export interface CommandOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
}

export interface CommandResult {
  /** `undefined` when the process never started or was killed. */
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** The executable does not exist (ENOENT) or is not executable (EACCES). */
  notFound: boolean;
  timedOut: boolean;
  /** Any failure: non-zero exit, signal, timeout or spawn error. */
  failed: boolean;
  durationMs: number;
}

export interface CommandRunner {
  run(file: string, args: readonly string[], options?: CommandOptions): Promise<CommandResult>;
}

/** The real runner, on execa. execa is imported on first use so `--help` never pays for it. */
export function createCommandRunner(): CommandRunner {
  return {
    async run(file, args, options = {}) {
      const { execa } = await import('execa');
      const started = performance.now();
      const result = await execa(file, args, {
        reject: false,
        timeout: options.timeoutMs ?? 10_000,
        env: options.env ?? process.env,
        extendEnv: false,
        stdin: options.input === undefined ? 'ignore' : 'pipe',
        ...(options.input === undefined ? {} : { input: options.input }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        stripFinalNewline: false,
        windowsHide: true,
      });
      const code = (result as { code?: string }).code;
      return {
        exitCode: typeof result.exitCode === 'number' ? result.exitCode : undefined,
        stdout: typeof result.stdout === 'string' ? result.stdout : '',
        stderr: typeof result.stderr === 'string' ? result.stderr : '',
        notFound: code === 'ENOENT' || code === 'EACCES',
        timedOut: result.timedOut === true,
        failed: result.failed,
        durationMs: performance.now() - started,
      };
    },
  };
}
