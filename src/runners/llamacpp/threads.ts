import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The default CPU thread count for llama.cpp decoding. Kept free of node-llama-cpp so `probe` can import it.
 *
 * Rule: one thread fewer than the usable *physical* cores (at least 1, at most 16).
 * - usable = min(cores this process may run on (affinity / cgroup: `os.availableParallelism()`),
 *               physical cores (Linux sysfs topology; SMT siblings count once)).
 * - One core stays free for the Node main thread (the TUI, the token callbacks, `serve`'s HTTP) and the OS.
 *
 * Why: ggml's worker threads spin at a barrier after every operation. When they outnumber the cores that are
 * actually free, a descheduled worker stalls all the others at every barrier, and decoding collapses instead of
 * degrading. Measured on this project's 2-core VM with the tiny test model (see docs/llamacpp.md): 1 thread
 * ≈ 1,300–2,300 tok/s, 2 threads ≈ 50 tok/s, 3 threads ≈ 3 tok/s; node-llama-cpp's own default (4) is the
 * 3-token/s case. On big machines the rule leaves one core idle, which costs little (decoding is memory-bound).
 */
export const MAX_DEFAULT_THREADS = 16;

export interface CpuTopology {
  /** Logical CPUs this process may use. */
  available: number;
  /** Physical cores, when the OS tells us; undefined otherwise. */
  physical: number | undefined;
}

/** Physical cores from Linux sysfs (unique package/core pairs), or undefined elsewhere / on error. */
export function physicalCoreCount(sysCpuDir = '/sys/devices/system/cpu'): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const cores = new Set<string>();
    for (const entry of readdirSync(sysCpuDir)) {
      if (!/^cpu\d+$/.test(entry)) continue;
      const topology = `${sysCpuDir}/${entry}/topology`;
      try {
        const core = readFileSync(`${topology}/core_id`, 'utf8').trim();
        const pkg = readFileSync(`${topology}/physical_package_id`, 'utf8').trim();
        cores.add(`${pkg}:${core}`);
      } catch {
        // Offline CPUs have no topology directory.
      }
    }
    return cores.size > 0 ? cores.size : undefined;
  } catch {
    return undefined;
  }
}

export function detectCpuTopology(): CpuTopology {
  return { available: availableParallelism(), physical: physicalCoreCount() };
}

/** The thread count the rule above gives for a topology (pure, for tests and the docs table). */
export function threadCountFor(topology: CpuTopology): number {
  const usable = Math.min(topology.available, topology.physical ?? topology.available);
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, usable - 1));
}

let cached: number | undefined;

/** The default thread count for this machine (computed once per process). */
export function defaultThreadCount(): number {
  cached ??= threadCountFor(detectCpuTopology());
  return cached;
}
