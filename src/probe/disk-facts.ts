import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bytesToGiB, roundGiB } from './units.js';

/** Free space where the Hub cache lives, measured at its nearest existing ancestor (it may not exist yet). */
export interface DiskFacts {
  /** The directory actually measured. */
  path: string;
  freeGiB: number;
}

export async function readDiskFree(cacheDir: string): Promise<DiskFacts> {
  let path = cacheDir;
  for (;;) {
    try {
      const stats = await statfs(path);
      // bavail: blocks available to unprivileged users (bfree includes root's reserve).
      return { path, freeGiB: roundGiB(bytesToGiB(stats.bavail * stats.bsize)) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(path);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === path) throw error;
      path = parent;
    }
  }
}
