import type { PullRuntime } from './runner-files.js';

/**
 * What `pull` reports while it works. The CLI renders these as progress bars (TTY), plain lines (logs) or,
 * with `--json`, one JSON object per line on stdout: the stable `pull --json` event schema (add, never rename).
 */

export interface PlannedFile {
  path: string;
  size: number;
  /** The verified blob is already in the cache: nothing to download. */
  cached: boolean;
  /** Bytes of a partial download left by an earlier run (resumed, not fetched again). */
  partialBytes: number;
}

export type PullEvent =
  | {
      event: 'plan';
      repo: string;
      revision: string;
      commit: string;
      runtime: PullRuntime;
      /** Cache only: HF_HUB_OFFLINE=1, or the Hub was unreachable and the cache had everything. */
      offline: boolean;
      files: PlannedFile[];
      totalBytes: number;
      /** Bytes still to fetch (total minus cached blobs and resumable partials). */
      downloadBytes: number;
    }
  | { event: 'file-start'; path: string; size: number; offset: number }
  | {
      event: 'progress';
      path: string;
      /** Bytes of this file on disk. */
      bytes: number;
      size: number;
      /** Bytes of all planned files on disk. */
      totalDone: number;
      totalBytes: number;
      /** Network throughput over the last few seconds, bytes/s. */
      rate: number;
      /** Seconds left at that rate; null until measurable. */
      etaSeconds: number | null;
    }
  | { event: 'file-done'; path: string; size: number; downloadedBytes: number; reused: boolean }
  | { event: 'retry'; path: string; attempt: number; delayMs: number; reason: string }
  | { event: 'wait-lock'; path: string }
  | { event: 'corrupt-partial'; path: string; offset: number }
  /** `pull --verify`: a cached file was re-hashed; `ok: false` means damaged (downloaded again online). */
  | { event: 'verify'; path: string; size: number; ok: boolean }
  | { event: 'notice'; message: string }
  | {
      event: 'done';
      repo: string;
      commit: string;
      snapshotDir: string;
      downloadedBytes: number;
      totalBytes: number;
      elapsedMs: number;
    };
