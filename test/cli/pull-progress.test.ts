import { describe, expect, it } from 'vitest';
import type { PullEvent } from '../../src/hub/pull-events.js';
import { createPullReporter, reporterMode, type Writable } from '../../src/cli/progress/pull-reporter.js';

function sink(isTTY: boolean): Writable & { text: string } {
  const stream = {
    text: '',
    isTTY,
    columns: 100,
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

const plan: PullEvent = {
  event: 'plan',
  repo: 'org/repo-GGUF',
  revision: 'main',
  commit: 'a'.repeat(40),
  runtime: 'llama-cpp',
  offline: false,
  files: [{ path: 'm-Q4_K_M.gguf', size: 4e9, cached: false, partialBytes: 1e9 }],
  totalBytes: 4e9,
  downloadBytes: 3e9,
};

function progress(bytes: number): PullEvent {
  return {
    event: 'progress',
    path: 'm-Q4_K_M.gguf',
    bytes,
    size: 4e9,
    totalDone: bytes,
    totalBytes: 4e9,
    rate: 50e6,
    etaSeconds: (4e9 - bytes) / 50e6,
  };
}

function play(mode: 'tty' | 'plain' | 'json', clock: { now: number }) {
  const stdout = sink(mode === 'tty');
  const stderr = sink(mode === 'tty');
  const reporter = createPullReporter(mode, { stdout, stderr, now: () => clock.now, plainIntervalMs: 5_000 });
  reporter.onEvent(plan);
  reporter.onEvent({ event: 'file-start', path: 'm-Q4_K_M.gguf', size: 4e9, offset: 1e9 });
  for (let step = 1; step <= 30; step++) {
    clock.now += 1_000;
    reporter.onEvent(progress(1e9 + step * 50e6));
  }
  reporter.onEvent({
    event: 'file-done',
    path: 'm-Q4_K_M.gguf',
    size: 4e9,
    downloadedBytes: 3e9,
    reused: false,
  });
  reporter.onEvent({
    event: 'done',
    repo: 'org/repo-GGUF',
    commit: 'a'.repeat(40),
    snapshotDir: '/x',
    downloadedBytes: 3e9,
    totalBytes: 4e9,
    elapsedMs: 60_000,
  });
  reporter.finish();
  return { stdout: stdout.text, stderr: stderr.text };
}

describe('pull progress rendering', () => {
  it('chooses json with --json, bars on a terminal, plain lines otherwise', () => {
    expect(reporterMode(true, sink(true))).toBe('json');
    expect(reporterMode(false, sink(true))).toBe('tty');
    expect(reporterMode(false, sink(false))).toBe('plain');
  });

  it('tty: per-file and total bars with bytes, rate and ETA on stderr, nothing on stdout', () => {
    const out = play('tty', { now: 0 });
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('resuming m-Q4_K_M.gguf at 1.0 GB of 4.0 GB');
    expect(out.stderr).toMatch(/m-Q4_K_M\.gguf\s+█+░+\s+62%\s+2.5 GB/);
    expect(out.stderr).toMatch(/total\s+█+░+\s+62%\s+2.5 GB \/ 4.0 GB {2}50.0 MB\/s {2}ETA 30s/);
    expect(out.stderr).toContain('\x1b[2A\x1b[0J'); // redraws in place
    expect(out.stderr).toContain('pull: done: 3.0 GB downloaded in 1m00s');
  });

  it('plain: a progress line every few seconds on stderr, nothing on stdout', () => {
    const out = play('plain', { now: 0 });
    expect(out.stdout).toBe('');
    const lines = out.stderr.trim().split('\n');
    const progressLines = lines.filter((line) => line.includes(' at 50.0 MB/s'));
    expect(progressLines).toHaveLength(6); // 30 s of progress, one line per 5 s
    expect(progressLines[0]).toBe('pull: 1.3 GB / 4.0 GB (31%) at 50.0 MB/s, ETA 55s');
    expect(out.stderr).not.toContain('\x1b[');
  });

  it('json: every event as one JSON line on stdout, nothing on stderr', () => {
    const out = play('json', { now: 0 });
    expect(out.stderr).toBe('');
    const events = out.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PullEvent);
    expect(events[0]).toEqual(plan);
    expect(events.filter((event) => event.event === 'progress')).toHaveLength(30);
    expect(events.at(-1)?.event).toBe('done');
  });
});
