import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/** `atomr-infer bench` on a tiny GGUF: figures on stdout, progress on stderr, JSON lines appended. */

let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let model: string;

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  model = await writeTinyGguf({ arch: 'gemma3', seed: 13 });
});
afterAll(() => cleanup());

interface Level {
  concurrency: number;
  requests: number;
  errors: number;
  outputTokens: number;
  aggregateTokPerSec: number;
  ttftMs: { p50: number; p95: number };
  decodeTokPerSec: { p50: number };
}

const base = ['bench', '--threads', '1', '--concurrency', '1,2', '--max-tokens', '16', '--requests', '2'];

describe('atomr-infer bench (CLI)', () => {
  it('--json prints the run and appends one JSON line per level to the results file', async () => {
    const run = await runCli([...base, '--model', model, '--json'], { env });
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as { runId: string; runtime: string; levels: Level[] };
    expect(result.runtime).toBe('llama-cpp');
    expect(result.levels.map((l) => l.concurrency)).toEqual([1, 2]);
    for (const level of result.levels) {
      expect(level).toMatchObject({ requests: 2, errors: 0, outputTokens: 32 });
      expect(level.aggregateTokPerSec).toBeGreaterThan(0);
      expect(level.decodeTokPerSec.p50).toBeGreaterThan(0);
      expect(level.ttftMs.p95).toBeGreaterThanOrEqual(level.ttftMs.p50);
    }
    expect(run.stderr).toContain('concurrency 2:');
    const lines = readFileSync(join(env.ATOMR_INFER_HOME!, 'bench-results.jsonl'), 'utf8').trim().split('\n');
    const recorded = lines.map((line) => JSON.parse(line) as Level & { runId: string });
    expect(recorded.filter((r) => r.runId === result.runId).map((r) => r.concurrency)).toEqual([1, 2]);
  });

  it('prints a table by default', async () => {
    const run = await runCli([...base, '--model', model], { env });
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/concurrency\s+requests\s+errors\s+TTFT p50 ms\s+TTFT p95 ms/);
    expect(lines.slice(2).map((line) => line.split(/\s+/)[0])).toEqual(['1', '2']);
  });

  it.each([
    [['--concurrency', '0,2'], /--concurrency "0,2" is not valid/],
    [['--concurrency', 'lots'], /--concurrency "lots" is not valid/],
    [['--max-tokens', '0'], /--max-tokens "0" is not valid/],
    [['--requests', '-1'], /--requests "-1" is not valid/],
  ])('%j → exit 2', async (flags, message) => {
    const run = await runCli(['bench', '--model', model, ...flags], { env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
