import { availableParallelism, freemem, totalmem } from 'node:os';
import { hfHubCacheDir } from '../core/paths.js';
import type { CommandRunner } from '../core/subprocess.js';
import { readDiskFree, type DiskFacts } from './disk-facts.js';
import { NVIDIA_SMI_TIMEOUT_MS, queryNvidiaGpus, type GpuFacts } from './gpu-facts.js';
import { readMemory, type MemoryFacts } from './memory-facts.js';
import { PYTHON_TIMEOUT_MS, inspectPython, type PythonFacts } from './python-facts.js';
import { createCommandRunner } from '../core/subprocess.js';
import { readCpuCores, readOtherGpus, type CpuFacts, type PlatformOptions } from './system-facts.js';
import type { GpuInfo } from './types.js';
import { bytesToGiB, formatSeconds, roundGiB } from './units.js';

/**
 * Gathers every fact about the machine at once: nvidia-smi, the Python probe, systeminformation and the disk
 * run concurrently, each under its own timeout, and a slow or broken one never hides the others.
 * Nothing here depends on the model: a caller may start the scan before it has validated its settings.
 */

export interface SystemFacts {
  memory: MemoryFacts;
  cpu: CpuFacts;
  otherGpus: GpuInfo[];
  /** Set when systeminformation failed or ran out of time (the figures then come from Node's os module). */
  error?: string;
}

export interface MachineFacts {
  gpu: GpuFacts;
  python: PythonFacts;
  system: SystemFacts;
  disk: { ok: true; value: DiskFacts } | { ok: false; path: string; error: string };
  cacheDir: string;
  elapsedMs: number;
}

export const SYSTEM_TIMEOUT_MS = 3_000;
export const DISK_TIMEOUT_MS = 3_000;

export interface ScanOptions {
  env: NodeJS.ProcessEnv;
  /** The interpreter to inspect (Settings.python). */
  python: string;
  commands?: CommandRunner;
  /** Aborting kills the children still running. */
  signal?: AbortSignal;
  platform?: PlatformOptions;
  timeouts?: { gpuMs?: number; pythonMs?: number; systemMs?: number; diskMs?: number };
  /** The python check already started (`inspectPython` for `python`), so it is not spawned twice. */
  pythonFacts?: Promise<PythonFacts>;
}

export async function scanMachine(options: ScanOptions): Promise<MachineFacts> {
  const started = performance.now();
  const { env, signal } = options;
  const commands = options.commands ?? createCommandRunner();
  const timeouts = options.timeouts ?? {};
  const cacheDir = hfHubCacheDir(env);

  // Python first: it is usually the slowest, so it starts before anything else.
  const [python, gpu, system, disk] = await Promise.all([
    options.pythonFacts ??
      inspectPython(commands, options.python, env, timeouts.pythonMs ?? PYTHON_TIMEOUT_MS, signal),
    queryNvidiaGpus(commands, env, timeouts.gpuMs ?? NVIDIA_SMI_TIMEOUT_MS, signal),
    readSystem({ commands, ...options.platform }, timeouts.systemMs ?? SYSTEM_TIMEOUT_MS),
    withTimeout(readDiskFree(cacheDir), timeouts.diskMs ?? DISK_TIMEOUT_MS, 'measuring free disk space'),
  ]);
  return {
    gpu,
    python,
    system,
    disk: disk.ok ? { ok: true, value: disk.value } : { ok: false, path: cacheDir, error: disk.error },
    cacheDir,
    elapsedMs: Math.round(performance.now() - started),
  };
}

async function readSystem(platform: PlatformOptions, timeoutMs: number): Promise<SystemFacts> {
  const work = (async (): Promise<SystemFacts> => {
    const [memory, cpu] = await Promise.all([readMemory(platform), readCpuCores(platform)]);
    const otherGpus = await readOtherGpus({ ...platform, memory });
    return { memory, cpu, otherGpus };
  })();
  const result = await withTimeout(work, timeoutMs, 'systeminformation');
  if (result.ok) return result.value;
  // Node's own figures are coarser (free rather than available memory on some systems) but never hang.
  return {
    memory: {
      totalGiB: roundGiB(bytesToGiB(totalmem())),
      availableGiB: roundGiB(bytesToGiB(freemem())),
      source: 'os',
    },
    cpu: { physical: availableParallelism(), logical: availableParallelism() },
    otherGpus: [],
    error: result.error,
  };
}

export type Timed<T> = { ok: true; value: T } | { ok: false; timedOut: boolean; error: string };

/** Resolves with the work's value, its error, or a timeout — whichever comes first. Never rejects. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<Timed<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Timed<T>>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ok: false,
          timedOut: true,
          error: `${what} did not answer within ${formatSeconds(timeoutMs)}`,
        }),
      timeoutMs,
    );
    timer.unref();
  });
  const settled = work.then(
    (value): Timed<T> => ({ ok: true, value }),
    (error: unknown): Timed<T> => ({
      ok: false,
      timedOut: false,
      error: `${what} failed: ${error instanceof Error ? error.message : String(error)}`,
    }),
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
