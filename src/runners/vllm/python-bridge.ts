import type { ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AtomrError, RuntimeFailure } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';
import type { EngineLogs } from './config.js';
import { EngineLogSink } from './engine-logs.js';
import {
  type PyFunction,
  type PyProxy,
  killGroup,
  loadedPythonia,
  spawnInterpreter,
  within,
} from './pythonia-process.js';

/**
 * The one Python interpreter behind pythonia (a process-wide singleton: pythonia spawns its interpreter when it is
 * first imported and keeps one per Node process). Every measured pythonia 1.2.6 trap is handled here:
 *
 * - it spawns `PYTHON_BIN || 'python3'` with Node's stdout inherited and in Node's process group: that one
 *   `spawn` call is intercepted (pythonia-process.ts) to run the resolved interpreter, with stdout/stderr piped
 *   into our log sink (never our stdout) and `detached` (its own process group), so Ctrl-C reaches Node only;
 * - it picks its debug logger from `DEBUG` at load time and would print every bridge message on stdout;
 * - its calls time out after REQ_TIMEOUT (100 s) with a ref'd timer, yet never notice the child dying: every call
 *   here passes `$timeout: Infinity` and races the child's exit instead, so a crash fails in milliseconds;
 * - it keeps Node alive (child, IPC channel, a 1 s GC timer): the handles are unref'd whenever no call is in flight
 *   and the interpreter is killed on `exit`, SIGINT and SIGTERM.
 */

/** python/atomr_infer/vllm_driver.py, three levels above both src/runners/vllm and dist/runners/vllm. */
export const DRIVER_PATH = fileURLToPath(
  new URL('../../../python/atomr_infer/vllm_driver.py', import.meta.url),
);

export type DriverFunction = 'prepare' | 'launch' | 'step' | 'close';

export interface BridgeOptions {
  /** Absolute interpreter path (see resolvePythonInterpreter). */
  python: string;
  logs: EngineLogs;
}

export interface BridgeLease {
  readonly pid: number;
  /** Calls one driver function; arguments and result are strings (JSON). */
  call(fn: DriverFunction, ...args: string[]): Promise<string>;
  /** Called once if the interpreter dies (crash or shutdown). Returns an unsubscribe function. */
  onDeath(listener: (error: RuntimeFailure) => void): () => void;
  /** True while another lease holds the same interpreter. */
  shared(): boolean;
  /** Drops this hold; the last one shuts the interpreter down. Idempotent. */
  release(): Promise<void>;
  /** Bridge calls made by this interpreter so far (benchmarks check "one call per step"). */
  calls(): number;
}

let session: PythonSession | undefined;
let starting: Promise<PythonSession> | undefined;
let closing: Promise<void> | undefined;
/**
 * Driver module proxies of every interpreter we started, kept reachable forever: pythonia frees a Python object when
 * its proxy is garbage-collected, by number, and a restarted interpreter reuses the numbers — freeing the old
 * driver's number would delete the new driver.
 */
const retiredProxies: unknown[] = [];

/** Holds the bridge (starting the interpreter and loading the driver if needed). */
export async function acquireBridge(options: BridgeOptions): Promise<BridgeLease> {
  for (;;) {
    if (closing) await closing;
    if (session && !session.dead) {
      if (session.python !== options.python) {
        throw new RuntimeFailure(
          `the vLLM bridge of this process already runs ${session.python}, not ${options.python}`,
          { code: 'bridge', hint: 'use one Python interpreter for every vLLM runner in a process' },
        );
      }
      return session.lease();
    }
    if (!starting) {
      starting = startSession(options).finally(() => (starting = undefined));
    }
    session = await starting;
  }
}

async function startSession(options: BridgeOptions): Promise<PythonSession> {
  if (process.platform === 'win32') {
    throw new RuntimeFailure('the vLLM runner needs Linux: vLLM does not run on Windows', {
      code: 'unsupported-platform',
      hint: 'use --runtime llama-cpp',
    });
  }
  const proc = await spawnInterpreter(options.python);
  const started = new PythonSession(proc, options.python, new EngineLogSink(options.logs));
  try {
    await started.loadDriver();
  } catch (error) {
    await started.shutdown();
    throw error;
  }
  return started;
}

const ANSI = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*m', 'g');

/** pythonia's own errors (a Python exception in the bridge itself) carry colours and a multi-line trace. */
function bridgeError(fn: string, error: unknown): AtomrError {
  if (error instanceof AtomrError) return error;
  const lines = (text: string): string[] =>
    redactSecrets(text.replace(ANSI, ''))
      .split('\n')
      .map((line) => line.replace(/^\*\*\* JS \*\*\*\s*/, '').trim())
      .filter((line) => line !== '');
  // A bridge timeout says so in its message; a Python exception (empty message) ends its trace with the error line.
  const message = error instanceof Error ? lines(error.message)[0] : undefined;
  const trace = error instanceof Error ? lines(error.stack ?? '') : lines(String(error));
  const reason =
    message ?? trace.findLast((line) => /Error|Exception/.test(line)) ?? trace.at(-1) ?? 'unknown error';
  return new RuntimeFailure(`the vLLM bridge call ${fn} failed: ${reason.slice(0, 300)}`, {
    code: 'bridge',
    cause: error,
  });
}

class PythonSession {
  readonly pid: number;
  dead = false;
  private driver: PyProxy | undefined;
  private holds = 0;
  private inflight = 0;
  private bridgeCalls = 0;
  private referenced = true;
  private unrefPending: NodeJS.Immediate | undefined;
  private expectedExit = false;
  private deathError: RuntimeFailure | undefined;
  private rejectDeath: (error: RuntimeFailure) => void = () => undefined;
  private readonly death: Promise<never>;
  private readonly exited: Promise<void>;
  private readonly listeners = new Set<(error: RuntimeFailure) => void>();
  private readonly onNodeExit = (): void => killGroup(this.pid, 'SIGTERM');
  /**
   * Only for a program that does not handle the signal itself: Node's default action would end it without an
   * `exit` event, leaving Python running. A program that does handle it (every atomr-infer command holds a
   * StopSignals, src/core/stop-signals.ts) stops gracefully and disposes the runner, or exits through
   * process.exit, whose `exit` event stops Python; killing the engine here would only race that.
   */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    this.expectedExit = true;
    killGroup(this.pid, 'SIGTERM');
    this.removeProcessHooks();
    // Our listener suppressed Node's default action; restore it unless the application handles the signal.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor(
    private readonly proc: ChildProcess,
    readonly python: string,
    private readonly logs: EngineLogSink,
  ) {
    this.pid = proc.pid ?? -1;
    this.death = new Promise<never>((_, reject) => (this.rejectDeath = reject));
    this.death.catch(() => undefined);
    logs.attach(proc.stdout);
    logs.attach(proc.stderr);
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => void this.onExit(code, signal).finally(resolve));
      proc.once('error', () => void this.onExit(null, null).finally(resolve));
    });
    process.on('exit', this.onNodeExit);
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  async loadDriver(): Promise<void> {
    const pythonia = loadedPythonia();
    if (!pythonia) throw new RuntimeFailure('pythonia is not loaded', { code: 'bridge' });
    const importer = pythonia.builtins['fileImport$'] as PyFunction;
    const driver = await this.track('load', () =>
      importer('atomr_infer_vllm_driver', DRIVER_PATH, dirname(DRIVER_PATH), { $timeout: Infinity }),
    );
    retiredProxies.push(driver);
    this.driver = driver as PyProxy;
    const prepared = JSON.parse(await this.call('prepare', '{}')) as {
      ok: boolean;
      error?: { message: string };
    };
    if (!prepared.ok) {
      throw new RuntimeFailure(
        `the vLLM driver did not start: ${prepared.error?.message ?? 'unknown error'}`,
        {
          code: 'bridge',
        },
      );
    }
  }

  lease(): BridgeLease {
    this.holds++;
    let released = false;
    return {
      pid: this.pid,
      call: (fn, ...args) => this.call(fn, ...args),
      onDeath: (listener) => {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
      },
      shared: () => this.holds > 1,
      calls: () => this.bridgeCalls,
      release: async () => {
        if (released) return;
        released = true;
        this.holds--;
        if (this.holds > 0) return;
        if (session === this) session = undefined;
        const done = this.shutdown().finally(() => {
          if (closing === done) closing = undefined;
        });
        closing = done;
        await done;
      },
    };
  }

  call(fn: DriverFunction, ...args: string[]): Promise<string> {
    const driver = this.driver;
    if (!driver)
      return Promise.reject(new RuntimeFailure('the vLLM driver is not loaded', { code: 'bridge' }));
    // pythonia methods ending in `$` take a trailing kwargs object; `$timeout` is pythonia's per-call timeout.
    return this.track(fn, async () => {
      const result = await driver[`${fn}$`]!(...args, { $timeout: Infinity });
      if (typeof result !== 'string') {
        throw new RuntimeFailure(`the vLLM driver returned a ${typeof result} from ${fn}`, {
          code: 'bridge',
        });
      }
      return result;
    });
  }

  /** Runs one bridge call: refs Node's handles while it is in flight and fails it the moment Python dies. */
  private async track<T>(fn: string, body: () => Promise<T>): Promise<T> {
    if (this.dead)
      throw this.deathError ?? new RuntimeFailure('the vLLM bridge is closed', { code: 'bridge' });
    this.bridgeCalls++;
    this.inflight++;
    if (this.unrefPending) clearImmediate(this.unrefPending);
    this.unrefPending = undefined;
    this.setReferenced(true);
    try {
      return await Promise.race([body(), this.death]);
    } catch (error) {
      throw bridgeError(fn, error);
    } finally {
      this.inflight--;
      // Deferred: the engine loop issues its next call in the same tick, so don't flip refs per step.
      if (this.inflight === 0 && !this.unrefPending) {
        this.unrefPending = setImmediate(() => {
          this.unrefPending = undefined;
          if (this.inflight === 0) this.setReferenced(false);
        });
      }
    }
  }

  /** Idle bridge handles must not keep Node alive: a CLI that forgets dispose() still exits (and kills Python). */
  private setReferenced(on: boolean): void {
    if (this.referenced === on || this.dead) return;
    this.referenced = on;
    type Handle = { ref?(): void; unref?(): void } | null | undefined;
    const handles: Handle[] = [
      this.proc,
      this.proc.channel,
      this.proc.stdout as Handle,
      this.proc.stderr as Handle,
    ];
    for (const handle of handles) {
      if (on) handle?.ref?.();
      else handle?.unref?.();
    }
  }

  /** Graceful first (EOF on the bridge channel lets Python run its atexit hooks, which stop vLLM's workers). */
  async shutdown(): Promise<void> {
    if (this.dead) return this.exited;
    this.expectedExit = true;
    this.removeProcessHooks();
    // Whoever awaits dispose() must get control back, so Node stays up until the child is gone.
    this.setReferenced(true);
    try {
      this.proc.disconnect();
    } catch {
      // channel already closed
    }
    if ((await within(this.exited, 2000)) === 'timeout') {
      killGroup(this.pid, 'SIGTERM');
      if ((await within(this.exited, 3000)) === 'timeout') {
        killGroup(this.pid, 'SIGKILL');
        await within(this.exited, 2000);
      }
    }
  }

  private async onExit(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    this.removeProcessHooks();
    if (session === this) session = undefined;
    const pythonia = loadedPythonia();
    if (pythonia?.com.proc === this.proc) pythonia.python.exit();
    // Workers the interpreter left behind (a crashed engine does not stop them).
    killGroup(this.pid, 'SIGTERM');
    if (!this.expectedExit) {
      // The lines explaining a crash may still be in the pipe: give them a moment.
      await within(
        Promise.all(
          [this.proc.stdout, this.proc.stderr].map((s) =>
            s && !s.readableEnded ? once(s, 'end') : Promise.resolve([]),
          ),
        ),
        50,
      );
    }
    const error = this.expectedExit
      ? new RuntimeFailure('the vLLM engine was shut down', { code: 'engine-closed' })
      : this.crashError(code, signal);
    this.deathError = error;
    this.rejectDeath(error);
    for (const listener of [...this.listeners]) listener(error);
    this.listeners.clear();
  }

  private crashError(code: number | null, signal: NodeJS.Signals | null): RuntimeFailure {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
    const tail = this.logs.lastLines(4).join(' | ').slice(-500);
    return new RuntimeFailure(`the vLLM engine process (Python, pid ${this.pid}) ${how}`, {
      code: 'engine-crashed',
      hint: tail
        ? `its last output: ${tail}`
        : 'the next request restarts the engine; run with engine logs on stderr to see why it died',
    });
  }

  private removeProcessHooks(): void {
    process.off('exit', this.onNodeExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

function once(stream: NodeJS.ReadableStream, event: string): Promise<void> {
  return new Promise((resolve) => stream.once(event, () => resolve()));
}
