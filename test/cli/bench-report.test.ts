import { describe, expect, it } from 'vitest';
import { percentile, type LevelResult } from '../../src/bench/measure.js';
import { formatTable, resultLines, type BenchRun } from '../../src/bench/report.js';

const level = (concurrency: number, extra: Partial<LevelResult> = {}): LevelResult => ({
  concurrency,
  requests: 4,
  errors: 0,
  firstError: null,
  wallMs: 1000,
  outputTokens: 512,
  aggregateTokPerSec: 512,
  ttftMs: { p50: 10, p95: 20 },
  decodeTokPerSec: { p50: 130, mean: 128 },
  ...extra,
});

const run: BenchRun = {
  runId: 'abcd1234',
  timestamp: '2025-01-01T00:00:00.000Z',
  model: 'tiny',
  runtime: 'llama-cpp',
  device: 'CPU · 1 thread',
  maxTokens: 128,
  levels: [level(1), level(4, { errors: 1, firstError: 'boom' })],
};

describe('bench figures', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, i) => i + 1),
        95,
      ),
    ).toBe(95);
    expect(percentile([], 50)).toBe(0);
  });

  it('writes one self-contained JSON line per level', () => {
    const lines = resultLines(run)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      runId: 'abcd1234',
      model: 'tiny',
      concurrency: 4,
      errors: 1,
      firstError: 'boom',
    });
  });

  it('prints a table with one row per level and names failures', () => {
    const table = formatTable(run).trim().split('\n');
    expect(table[0]).toBe('tiny · llama-cpp · CPU · 1 thread · max 128 tokens');
    expect(table).toHaveLength(5);
    expect(table[4]).toBe('concurrency 4: 1 failed, first: boom');
  });
});
