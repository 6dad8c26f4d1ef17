import { spawn } from 'node:child_process';

/**
 * The one way the tool runs other programs: argument arrays (never a shell), a timeout, never throwing on
 * a non-zero exit. Tests swap in a fake `CommandRunner` or put fake executables first on PATH.
 *
 * Built on bare `node:child_process` rather than execa: `import('execa')` alone measured ~120 ms here, as much
 * as the whole `probe` may spend (its goal is 1.5x a bare `node` start plus one Python spawn), and the contract
 * needed is small. On timeout it resolves at once and kills the child with SIGKILL: a wedged `nvidia-smi`
 * may ignore SIGTERM, and the caller must not wait for it.
 *
 * Nothing a command starts outlives it: each child leads its own process group (POSIX), and that whole group is
 * killed on timeout, on abort, when the child exits (a helper it left in the background) and when Node exits. A
 * wrapper (a pyenv shim, a vendor script around nvidia-smi) runs the real work as its own child, and killing
 * the wrapper alone left that child running after `probe` had exited.
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

/** A process group per child where the platform has them; Windows has none (and no orphaned shells). */
const OWN_GROUP = process.platform !== 'win32';

/** Process groups of children still running, killed if Node exits first (a second Ctrl-C, process.exit). */
const liveGroups = new Set<number>();
let exitHook = false;

function killGroup(child: ReturnType<typeof spawn>): void {
  const pid = child.pid;
  if (pid === undefined) return;
  try {
    if (OWN_GROUP) process.kill(-pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // The group is empty: everything in it has exited.
  }
}

function track(child: ReturnType<typeof spawn>): void {
  const pid = child.pid;
  if (!OWN_GROUP || pid === undefined) return;
  liveGroups.add(pid);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const group of liveGroups) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

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
        detached: OWN_GROUP,
      });
    } catch (error) {
      errorCode = (error as NodeJS.ErrnoException).code ?? 'ESPAWN';
      stderr = String((error as Error).message);
      resolve(result(undefined));
      return;
    }

    track(child);
    // Killed, and not waited for: a child stuck in the kernel (a hung driver) may never close its pipes.
    const abandon = (): void => {
      killGroup(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
      finish(undefined);
    };
    const onAbort = (): void => abandon();
    const finish = (exitCode: number | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result(exitCode));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      abandon();
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
    // The child is done: whatever it left in its group goes too (its pipes then close, and 'close' follows).
    child.on('exit', () => {
      killGroup(child);
      if (child.pid !== undefined) liveGroups.delete(child.pid);
    });
    child.on('close', (code) => finish(code ?? undefined));
    // Last, once every listener is in place (a spawn error is emitted later, and must find its listener).
    if (options.signal?.aborted) abandon();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
