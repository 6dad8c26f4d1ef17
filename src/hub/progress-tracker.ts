import type { PullEvent } from './pull-events.js';
import type { PullPlan } from './pull-plan.js';

/**
 * Turns per-chunk byte counts into throttled `progress` events with a total, a rate over a sliding
 * window and an ETA. Bytes already on disk (cached blobs, resumed partials) count as done but not
 * toward the rate, so a resumed pull does not claim an absurd speed.
 */

const EMIT_EVERY_MS = 100;
const RATE_WINDOW_MS = 5_000;

export class ProgressTracker {
  private readonly onDisk = new Map<string, number>();
  private readonly sizes = new Map<string, number>();
  private readonly lastEmit = new Map<string, number>();
  private readonly samples: Array<{ at: number; bytes: number }> = [];
  private readonly started = Date.now();
  private readonly totalBytes: number;

  constructor(
    plan: PullPlan,
    private readonly emit: (event: PullEvent) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.totalBytes = plan.totalBytes;
    for (const file of plan.files) {
      this.sizes.set(file.path, file.size);
      this.onDisk.set(file.path, file.cached ? file.size : file.partialBytes);
    }
  }

  update(path: string, bytesOnDisk: number, delta: number): void {
    this.onDisk.set(path, bytesOnDisk);
    const at = this.now();
    if (delta > 0) this.samples.push({ at, bytes: delta });
    if (at - (this.lastEmit.get(path) ?? 0) < EMIT_EVERY_MS) return;
    this.lastEmit.set(path, at);
    this.emitProgress(path, at);
  }

  finish(path: string, size: number): void {
    this.onDisk.set(path, size);
    this.emitProgress(path, this.now());
  }

  /** Bytes/s over the last few seconds (over the whole run until a window has passed). */
  rate(at: number = this.now()): number {
    while (this.samples.length && at - (this.samples[0]?.at ?? at) > RATE_WINDOW_MS) this.samples.shift();
    const bytes = this.samples.reduce((sum, sample) => sum + sample.bytes, 0);
    const span = Math.max(250, Math.min(RATE_WINDOW_MS, at - this.started));
    return (bytes * 1000) / span;
  }

  private emitProgress(path: string, at: number): void {
    const totalDone = [...this.onDisk.values()].reduce((sum, bytes) => sum + bytes, 0);
    const rate = this.rate(at);
    const left = this.totalBytes - totalDone;
    this.emit({
      event: 'progress',
      path,
      bytes: this.onDisk.get(path) ?? 0,
      size: this.sizes.get(path) ?? 0,
      totalDone,
      totalBytes: this.totalBytes,
      rate: Math.round(rate),
      etaSeconds: rate > 0 ? Math.round(left / rate) : left === 0 ? 0 : null,
    });
  }
}
