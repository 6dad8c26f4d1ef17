import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * The young generation (each of V8's two semi-spaces) this process stops growing at, in MiB: what a plain
 * node-llama-cpp script ends up with.
 */
export const YOUNG_GENERATION_CAP_MIB = 8;

/** V8's `new_space` statistic covers both semi-spaces. */
const newSpaceBytes = (): number =>
  v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

/**
 * Stops V8's young generation from growing past `semiSpaceMiB`, for the whole process.
 *
 * Why: a token allocates ~40 KB (mostly node-llama-cpp's bookkeeping). Loading this much code and a model makes V8
 * grow the nursery to 16 MiB, twice a plain node-llama-cpp script's, and on a model whose token takes under a
 * millisecond that costs ~6 % of decode speed (docs/llamacpp.md, "Per-token overhead"). `--max-semi-space-size`
 * would do it but only on the command line, i.e. a `#!/usr/bin/env -S node …` shebang, and BusyBox's env (Alpine)
 * has no -S. What can change at run time is the growth factor, which V8 reads each time it grows the nursery: set
 * to 1 once the nursery has reached the cap (checked after each collection), it stays there. Startup below the
 * cap (`--help`, `probe`) runs exactly as without it.
 */
export function capYoungGeneration(semiSpaceMiB = YOUNG_GENERATION_CAP_MIB): void {
  const capBytes = 2 * semiSpaceMiB * 1024 * 1024;
  const observer = new PerformanceObserver(() => capWhenReached());
  function capWhenReached(): void {
    if (newSpaceBytes() < capBytes) return;
    v8.setFlagsFromString('--semi-space-growth-factor=1');
    observer.disconnect();
  }
  observer.observe({ entryTypes: ['gc'] });
  capWhenReached();
}
