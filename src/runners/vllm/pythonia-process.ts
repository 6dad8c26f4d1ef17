import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { RuntimeFailure } from '../../core/errors.js';

/**
 * Starting pythonia's interpreter our way. pythonia (CommonJS) spawns `PYTHON_BIN || 'python3'` as a side effect of
 * being imported, and again from `com.start()` after `python.exit()`; both go through `child_process.spawn`, which
 * is intercepted for exactly that one call (its argument is pythonia's `interface.py`) while pythonia starts.
 */

const require = createRequire(import.meta.url);

export type PyFunction = (...args: unknown[]) => Promise<unknown>;
export type PyProxy = Record<string, PyFunction>;

export interface Pythonia {
  python: { exit(): void };
  builtins: PyProxy;
  com: { proc: ChildProcess | null; start(): void };
}

let pythonia: Pythonia | undefined;

/** The pythonia module, once the first interpreter has been started. */
export function loadedPythonia(): Pythonia | undefined {
  return pythonia;
}

/** The environment the interpreter starts with. */
export function bridgeEnvironment(python: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    PYTHON_BIN: python,
    // vLLM logs to stdout by default; keep everything on stderr.
    VLLM_LOGGING_STREAM: 'ext://sys.stderr',
    // CUDA cannot be re-initialised in a forked child; the driver makes `spawn` safe under the bridge.
    VLLM_WORKER_MULTIPROC_METHOD: base.VLLM_WORKER_MULTIPROC_METHOD || 'spawn',
    // Unbuffered, so the lines explaining a crash have arrived when the process dies.
    PYTHONUNBUFFERED: '1',
  };
}

/** Starts pythonia's interpreter through our own spawn options (see the module comment). */
export async function spawnInterpreter(python: string): Promise<ChildProcess> {
  const childProcess = require('node:child_process') as { spawn: (...args: unknown[]) => ChildProcess };
  const original = childProcess.spawn;
  let spawned: ChildProcess | undefined;
  childProcess.spawn = function patchedSpawn(this: unknown, ...args: unknown[]): ChildProcess {
    const [, argv, options] = args as [string, unknown, SpawnOptions | undefined];
    const entry = Array.isArray(argv) ? argv[0] : undefined;
    if (typeof entry !== 'string' || !/[\\/]pythonia[\\/]interface\.py$/.test(entry)) {
      return Reflect.apply(original, this, args) as ChildProcess;
    }
    spawned = original.call(childProcess, python, argv, {
      ...options,
      env: bridgeEnvironment(python),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // A spawn failure is reported as an 'error' event: without a listener it would crash Node.
    spawned.on('error', () => undefined);
    return spawned;
  };
  const debug = process.env.DEBUG;
  try {
    if (!pythonia) {
      delete process.env.DEBUG;
      pythonia = ((await import('pythonia')) as unknown as { default: Pythonia }).default;
      // The bridge keeps every proxy it creates alive (python-bridge.ts), so pythonia's GC-free timer has nothing
      // to do; stopped, it no longer keeps Node alive.
      (globalThis as { __pythonBridge?: { end(): void } }).__pythonBridge?.end();
      if (!spawned) pythonia.python.exit(); // someone imported pythonia before us, without our options
    } else if (pythonia.com.proc) {
      pythonia.python.exit();
    }
    if (!spawned) pythonia.com.start();
  } finally {
    childProcess.spawn = original;
    if (debug !== undefined) process.env.DEBUG = debug;
  }
  if (!spawned?.pid) {
    throw new RuntimeFailure(`could not start the Python interpreter ${python}`, { code: 'bridge' });
  }
  return spawned;
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // the interpreter leads its own group: this reaches vLLM's workers too
  } catch {
    // already gone
  }
}

/** Settles with `work`, or 'timeout' after `ms`; the timer never outlives the race (it would keep Node up). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, ms, 'timeout'))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
