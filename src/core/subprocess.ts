import { spawn } from 'node:child_process';

/**
 * The one way the tool runs other programs: argument arrays (never a shell), a timeout, never throwing on
 * a non-zero exit. Tests swap in a fake `CommandRunner` or put fake executables first on PATH.
 *
 * Built on bare `node:child_process` rather than execa: `import('execa')` alone measured ~120 ms here, as much
 * as the whole `probe` may spend (its goal is 1.5x a bare `node` start plus one Python spawn), and the contract
 * needed is small. On timeout it resolves at once and kills the child with SIGKILL: a wedged `nvidia-smi`
 * may ignore SIGTERM, and the caller must not wait for it.
 */

export interface CommandOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Aborting kills the child (SIGKILL) and resolves the run as failed. */
  signal?: AbortSignal;
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

export function createCommandRunner(): CommandRunner {
  return { run: spawnCommand };
}

const MAX_OUTPUT_CHARS = 1_000_000;

function spawnCommand(
  file: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timedOut = false;
    let errorCode: string | undefined;

    const result = (exitCode: number | undefined): CommandResult => ({
      exitCode,
      stdout,
      stderr,
      notFound: errorCode === 'ENOENT' || errorCode === 'EACCES',
      timedOut,
      failed: timedOut || errorCode !== undefined || exitCode !== 0,
      durationMs: performance.now() - started,
    });

    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], {
        env: options.env ?? process.env,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        windowsHide: true,
        ...(options.signal === undefined ? {} : { signal: options.signal, killSignal: 'SIGKILL' as const }),
      });
    } catch (error) {
      errorCode = (error as NodeJS.ErrnoException).code ?? 'ESPAWN';
      stderr = String((error as Error).message);
      resolve(result(undefined));
      return;
    }

    const finish = (exitCode: number | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result(exitCode));
    };

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
      // Do not wait for 'close': a child stuck in the kernel (a hung driver) may never close its pipes.
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
      finish(undefined);
    }, options.timeoutMs ?? 10_000);

    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS) stdout += chunk;
    });
    child.stderr?.on('data', (chunk: string) => {
      if (stderr.length < MAX_OUTPUT_CHARS) stderr += chunk;
    });
    if (options.input !== undefined) {
      child.stdin?.on('error', () => {});
      child.stdin?.end(options.input);
    }
    child.on('error', (error: NodeJS.ErrnoException) => {
      errorCode = error.code ?? error.name;
      finish(undefined);
    });
    child.on('close', (code) => finish(code ?? undefined));
  });
}
