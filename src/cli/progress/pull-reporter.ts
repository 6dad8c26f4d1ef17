import type { PullEvent } from '../../hub/pull-events.js';
import { bar, fit, formatBytes, formatEta, formatPercent, formatRate } from './format.js';

/**
 * Renders pull events three ways:
 *   tty   — live bars (one per active file and a total: bytes, rate, ETA) on stderr, redrawn ≤ 10×/s
 *   plain — a line on stderr when something happens and a progress line every few seconds (logs, CI)
 *   json  — every event as one JSON line on stdout (progress throttled), for programs
 * Progress never goes to stdout except in json mode, so `$(atomr-infer pull)` captures only the result.
 */

export type ReporterMode = 'tty' | 'plain' | 'json';

export interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface PullReporter {
  onEvent(event: PullEvent): void;
  /** Clears the live block (tty) so what follows starts on a clean line. */
  finish(): void;
}

export function reporterMode(json: boolean, stderr: Writable): ReporterMode {
  if (json) return 'json';
  return stderr.isTTY ? 'tty' : 'plain';
}

export interface ReporterOptions {
  stdout: Writable;
  stderr: Writable;
  now?: () => number;
  /** plain mode: seconds between progress lines. */
  plainIntervalMs?: number;
  /** json mode: least time between two progress events of one file. */
  jsonIntervalMs?: number;
  /** Prefix for plain/tty lines. */
  label?: string;
}

export function createPullReporter(mode: ReporterMode, options: ReporterOptions): PullReporter {
  if (mode === 'json') return jsonReporter(options);
  if (mode === 'plain') return plainReporter(options);
  return ttyReporter(options);
}

function jsonReporter(options: ReporterOptions): PullReporter {
  const now = options.now ?? Date.now;
  const interval = options.jsonIntervalMs ?? 250;
  const last = new Map<string, number>();
  return {
    onEvent(event) {
      if (event.event === 'progress' && event.bytes < event.size) {
        const at = now();
        if (at - (last.get(event.path) ?? 0) < interval) return;
        last.set(event.path, at);
      }
      options.stdout.write(`${JSON.stringify(event)}\n`);
    },
    finish() {},
  };
}

/** The one-line description of a discrete event (shared by plain and tty modes). */
export function describeEvent(event: PullEvent): string | undefined {
  switch (event.event) {
    case 'plan': {
      const files = `${event.files.length} file${event.files.length === 1 ? '' : 's'}`;
      const source = `${event.repo}@${event.commit.slice(0, 8)}`;
      if (event.offline) return `${source}: ${files}, ${formatBytes(event.totalBytes)}, from the cache`;
      if (event.downloadBytes === 0)
        return `${source}: ${files}, ${formatBytes(event.totalBytes)}, already cached`;
      return `${source}: ${files}, ${formatBytes(event.totalBytes)}, ${formatBytes(event.downloadBytes)} to download`;
    }
    case 'file-start':
      return event.offset > 0
        ? `resuming ${event.path} at ${formatBytes(event.offset)} of ${formatBytes(event.size)}`
        : `downloading ${event.path} (${formatBytes(event.size)})`;
    case 'file-done':
      return event.reused
        ? undefined
        : `${event.path}: ${formatBytes(event.size)} verified (${formatBytes(event.downloadedBytes)} downloaded)`;
    case 'retry':
      return `retrying ${event.path} in ${(event.delayMs / 1000).toFixed(1)}s (attempt ${event.attempt}: ${event.reason})`;
    case 'wait-lock':
      return `waiting for another process downloading ${event.path}`;
    case 'corrupt-partial':
      return `the partial download of ${event.path} failed verification; downloading it again`;
    case 'verify':
      return event.ok
        ? `${event.path}: checksum verified`
        : `${event.path} is damaged (its checksum does not match); downloading it again`;
    case 'notice':
      return event.message;
    case 'done':
      return `done: ${formatBytes(event.downloadedBytes)} downloaded in ${formatEta(event.elapsedMs / 1000)}`;
    case 'progress':
      return undefined;
  }
}

function progressLine(event: Extract<PullEvent, { event: 'progress' }>): string {
  return `${formatBytes(event.totalDone)} / ${formatBytes(event.totalBytes)} (${formatPercent(event.totalDone, event.totalBytes)}) at ${formatRate(event.rate)}, ETA ${formatEta(event.etaSeconds)}`;
}

function plainReporter(options: ReporterOptions): PullReporter {
  const now = options.now ?? Date.now;
  const interval = options.plainIntervalMs ?? 5_000;
  const label = options.label ?? 'pull';
  let lastLine = now();
  const say = (text: string): void => {
    options.stderr.write(`${label}: ${text}\n`);
  };
  return {
    onEvent(event) {
      if (event.event === 'progress') {
        const at = now();
        if (at - lastLine < interval) return;
        lastLine = at;
        say(progressLine(event));
        return;
      }
      const text = describeEvent(event);
      if (text) say(text);
    },
    finish() {},
  };
}

function ttyReporter(options: ReporterOptions): PullReporter {
  const now = options.now ?? Date.now;
  const label = options.label ?? 'pull';
  const active = new Map<string, { bytes: number; size: number }>();
  let total: Extract<PullEvent, { event: 'progress' }> | undefined;
  let drawnLines = 0;
  let lastDraw = 0;

  const clear = (): string => (drawnLines ? `\x1b[${drawnLines}A\x1b[0J` : '');
  const draw = (force: boolean): void => {
    const at = now();
    if (!force && at - lastDraw < 100) return;
    lastDraw = at;
    const width = Math.max(60, Math.min(options.stderr.columns ?? 80, 120));
    const nameWidth = Math.max(12, width - 52);
    const lines: string[] = [];
    for (const [path, file] of active) {
      lines.push(
        `  ${fit(path, nameWidth)} ${bar(file.bytes, file.size, 20)} ${formatPercent(file.bytes, file.size).padStart(4)} ${formatBytes(file.bytes).padStart(8)}`,
      );
    }
    if (total) {
      lines.push(
        `  ${fit('total', nameWidth)} ${bar(total.totalDone, total.totalBytes, 20)} ${formatPercent(total.totalDone, total.totalBytes).padStart(4)} ${formatBytes(total.totalDone).padStart(8)} / ${formatBytes(total.totalBytes)}  ${formatRate(total.rate)}  ETA ${formatEta(total.etaSeconds)}`,
      );
    }
    options.stderr.write(`${clear()}${lines.map((line) => `${line}\n`).join('')}`);
    drawnLines = lines.length;
  };
  const print = (text: string): void => {
    options.stderr.write(`${clear()}${label}: ${text}\n`);
    drawnLines = 0;
    draw(true);
  };

  return {
    onEvent(event) {
      switch (event.event) {
        case 'file-start':
          active.set(event.path, { bytes: event.offset, size: event.size });
          break;
        case 'progress':
          total = event;
          if (active.has(event.path)) active.set(event.path, { bytes: event.bytes, size: event.size });
          draw(false);
          return;
        case 'file-done':
          active.delete(event.path);
          break;
        case 'done':
          active.clear();
          total = undefined;
          break;
        default:
          break;
      }
      const text = describeEvent(event);
      if (text) print(text);
      else draw(true);
    },
    finish() {
      options.stderr.write(clear());
      drawnLines = 0;
    },
  };
}
