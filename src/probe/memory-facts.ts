import { readFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { bytesToGiB, roundGiB } from './units.js';

/**
 * RAM as a process on this machine can use it. systeminformation's `mem()` gives total and *available*
 * (MemAvailable on Linux, not MemFree; its own computation on macOS/Windows). Only its memory module is
 * imported: the package index loads every module (~50 ms measured here), memory.js alone ~6 ms.
 * In a container the cgroup limit, not the host's RAM, is what counts, so it caps both figures.
 */

export interface MemoryFacts {
  totalGiB: number;
  availableGiB: number;
  /** Where the figures come from. */
  source: 'systeminformation' | 'os';
  /** Set when a cgroup memory limit lowered the host figures. */
  cgroupLimitGiB?: number;
}

export async function readMemory(
  options: { root?: string; platform?: NodeJS.Platform } = {},
): Promise<MemoryFacts> {
  const platform = options.platform ?? process.platform;
  let total: number;
  let available: number;
  let source: MemoryFacts['source'] = 'systeminformation';
  try {
    const { default: si } = await import('systeminformation/lib/memory.js');
    const data = await si.mem();
    total = data.total;
    available = data.available;
  } catch {
    source = 'os';
    total = totalmem();
    available = freemem();
  }
  const cgroup = platform === 'linux' ? await readCgroupLimit(options.root ?? '/') : undefined;
  const facts: MemoryFacts = {
    totalGiB: roundGiB(bytesToGiB(total)),
    availableGiB: roundGiB(bytesToGiB(available)),
    source,
  };
  if (cgroup && cgroup.limit < total) {
    facts.cgroupLimitGiB = roundGiB(bytesToGiB(cgroup.limit));
    facts.totalGiB = Math.min(facts.totalGiB, facts.cgroupLimitGiB);
    facts.availableGiB = Math.min(
      facts.availableGiB,
      roundGiB(bytesToGiB(Math.max(0, cgroup.limit - cgroup.used))),
    );
  }
  return facts;
}

/**
 * The memory limit of this process's cgroup (v2 `memory.max`, else v1 `memory.limit_in_bytes`) and what is used
 * towards it, less the inactive page cache the kernel reclaims before it OOM-kills (as `docker stats` does).
 */
export async function readCgroupLimit(root: string): Promise<{ limit: number; used: number } | undefined> {
  const read = async (path: string): Promise<string | undefined> => {
    try {
      return (await readFile(join(root, path), 'utf8')).trim();
    } catch {
      return undefined;
    }
  };
  const layouts = [
    {
      limit: 'sys/fs/cgroup/memory.max',
      usage: 'sys/fs/cgroup/memory.current',
      stat: 'sys/fs/cgroup/memory.stat',
      inactive: 'inactive_file',
    },
    {
      limit: 'sys/fs/cgroup/memory/memory.limit_in_bytes',
      usage: 'sys/fs/cgroup/memory/memory.usage_in_bytes',
      stat: 'sys/fs/cgroup/memory/memory.stat',
      inactive: 'total_inactive_file',
    },
  ];
  for (const layout of layouts) {
    const limitText = await read(layout.limit);
    if (limitText === undefined) continue;
    const limit = Number(limitText);
    // "max" (v2) or a page-rounded LONG_MAX (v1) mean no limit.
    if (!Number.isFinite(limit) || limit <= 0 || limit >= 2 ** 60) return undefined;
    const usage = Number((await read(layout.usage)) ?? 0) || 0;
    const stat = (await read(layout.stat)) ?? '';
    const inactiveMatch = new RegExp(`^${layout.inactive} (\\d+)$`, 'm').exec(stat);
    const inactive = inactiveMatch ? Number(inactiveMatch[1]) : 0;
    return { limit, used: Math.max(0, usage - inactive) };
  }
  return undefined;
}
