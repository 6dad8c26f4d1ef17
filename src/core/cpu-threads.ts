import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPU threads llama.cpp may use here. In core (no node-llama-cpp, no runner) because the probe reports the
 * thread count a deployment will get and the runner applies it: one rule, read by both.
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

/**
 * The CPU quota of this process's cgroup (a container's `--cpus`), rounded up; undefined when there is none.
 * Node 20's `availableParallelism()` honours CPU affinity but not the quota, so a 2-CPU container on a 64-core host
 * would otherwise count 64. Reads cgroup v2 `cpu.max` (`<quota> <period>` or `max …`), else v1's CFS files.
 */
export function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  const quotaOver = (quota: number, period: number): number | undefined =>
    Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0
      ? Math.max(1, Math.ceil(quota / period))
      : undefined;
  try {
    const [quota, period] = readFileSync(`${root}/cpu.max`, 'utf8').trim().split(/\s+/);
    return quota === 'max' ? undefined : quotaOver(Number(quota), Number(period));
  } catch {
    // not cgroup v2 (or not Linux)
  }
  try {
    const quota = Number(readFileSync(`${root}/cpu/cpu.cfs_quota_us`, 'utf8').trim());
    const period = Number(readFileSync(`${root}/cpu/cpu.cfs_period_us`, 'utf8').trim());
    return quotaOver(quota, period);
  } catch {
    return undefined;
  }
}

export function detectCpuTopology(): CpuTopology {
  const quota = process.platform === 'linux' ? cgroupCpuLimit() : undefined;
  return {
    available: Math.min(availableParallelism(), quota ?? Number.POSITIVE_INFINITY),
    physical: physicalCoreCount(),
  };
}

/** The thread count the rule above gives for a topology (pure, for tests and the docs table). */
export function threadCountFor(topology: CpuTopology): number {
  const usable = Math.min(topology.available, topology.physical ?? topology.available);
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, usable - 1));
}

let topology: CpuTopology | undefined;

/** This machine's topology, read once per process. */
function machine(): CpuTopology {
  topology ??= detectCpuTopology();
  return topology;
}

/** The default thread count for this machine (computed once per process). */
export function defaultThreadCount(): number {
  return threadCountFor(machine());
}

/**
 * The most threads llama.cpp may get here: the logical CPUs this process may use (affinity and cgroup quota).
 * Beyond it, workers outnumber CPUs and every barrier waits for a descheduled one: `--threads 256` on 2 cores
 * never finished (load 151). `--threads` above it is refused (the user typed the number and is told the range);
 * a stored `threads` setting above it (a deployment written on a bigger machine) is clamped by the runner.
 */
export function usableCpuCount(): number {
  return Math.max(1, machine().available);
}
