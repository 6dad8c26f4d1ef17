import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../../../src/core/errors.js';
import type { ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { chat, collect, makeRunner, readRecord, useFakeVllm, type FakeEnv } from './helpers.js';

let env: FakeEnv | undefined;
const runners: ModelRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.dispose()));
  env?.restore();
  env = undefined;
});

async function newRunner(settings: Record<string, unknown> = {}): Promise<ModelRunner> {
  const runner = await makeRunner(settings);
  runners.push(runner);
  return runner;
}

/** Interpreter pids, in the order engines were created. */
function enginePids(): number[] {
  return readRecord(env?.recordFile ?? '')
    .filter((e) => e.event === 'engine_args')
    .map((e) => (e as unknown as { pid: number }).pid);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('engine crash', () => {
  it('fails every in-flight stream fast with a clear error, then the next request relaunches', async () => {
    env = useFakeVllm({ FAKE_VLLM_CRASH_AFTER_STEPS: '3', FAKE_VLLM_STEP_DELAY_MS: '5' });
    const runner = await newRunner();
    const seen: string[] = [];
    const consume = async (id: string): Promise<void> => {
      for await (const chunk of runner.execute(chat(id, 'one two three four five six seven'))) {
        seen.push(chunk.textDelta);
      }
    };
    const started = performance.now();
    const outcomes = await Promise.allSettled(['c0', 'c1', 'c2'].map(consume));
    const elapsed = performance.now() - started;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as RuntimeFailure;
      expect(error).toBeInstanceOf(RuntimeFailure);
      expect(error.code).toBe('engine-crashed');
      expect(error.message).toMatch(/^the vLLM engine process \(Python, pid \d+\) exited with code 70$/);
      expect(error.hint).toMatch(/illegal memory access/);
    }
    expect(seen.length).toBeGreaterThan(0); // text streamed before the crash reached the consumers
    // pythonia alone would wait out its 100 s request timeout.
    expect(elapsed).toBeLessThan(5000);
    const [crashedPid] = enginePids();
    expect(isAlive(crashedPid!)).toBe(false);

    delete process.env.FAKE_VLLM_CRASH_AFTER_STEPS;
    const { text } = await collect(runner.execute(chat('after', 'back again')));
    expect(text).toBe('Echo: back again');
    const pids = enginePids();
    expect(pids).toHaveLength(2);
    expect(pids[1]).not.toBe(pids[0]);
  });
});

describe('sessions', () => {
  it('rebuildSession tears the engine down and the next request starts a fresh one', async () => {
    env = useFakeVllm();
    const runner = await newRunner();
    await collect(runner.execute(chat('r1', 'a')));
    const [first] = enginePids();
    await runner.rebuildSession('context-poisoned');
    expect(isAlive(first!)).toBe(false);
    expect((await collect(runner.execute(chat('r2', 'b')))).text).toBe('Echo: b');
    await runner.rebuildSession('manual');
    await collect(runner.execute(chat('r3', 'c')));
    const pids = enginePids();
    expect(pids).toHaveLength(3);
    expect(new Set(pids).size).toBe(3);
  });

  it('ends streams in flight with `abort` when the session is rebuilt', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '5' });
    const runner = await newRunner();
    const chunks: TokenChunk[] = [];
    for await (const chunk of runner.execute(chat('r1', 'one two three four five six'))) {
      chunks.push(chunk);
      if (chunks.length === 1) void runner.rebuildSession('manual');
    }
    expect(chunks.at(-1)?.finishReason).toBe('abort');
  });

  it('loadWeights starts the engine eagerly and relaunches only for different weights', async () => {
    env = useFakeVllm();
    const runner = await newRunner();
    await runner.loadWeights({ kind: 'huggingface', repo: 'google/gemma-4-E2B-it' });
    await runner.loadWeights({ kind: 'huggingface', repo: 'google/gemma-4-E2B-it' });
    await runner.loadWeights({ kind: 'local-path', path: '/models/gemma-local' });
    await collect(runner.execute(chat('r1', 'a')));
    const models = readRecord(env.recordFile)
      .filter((e) => e.event === 'engine_args')
      .map((e) => e.kwargs?.model);
    expect(models).toEqual(['google/gemma-4-E2B-it', '/models/gemma-local']);
  });

  it('shares one interpreter between runners and stops it with the last one', async () => {
    env = useFakeVllm();
    const a = await newRunner();
    const b = await newRunner();
    await Promise.all([collect(a.execute(chat('a1', 'from a'))), collect(b.execute(chat('b1', 'from b')))]);
    const [pidA, pidB] = enginePids();
    expect(pidA).toBe(pidB);
    await a.dispose();
    expect(isAlive(pidA!)).toBe(true);
    expect((await collect(b.execute(chat('b2', 'still b')))).text).toBe('Echo: still b');
    await b.dispose();
    expect(isAlive(pidA!)).toBe(false);
  });
});

describe('process hygiene', () => {
  it('runs Python in its own process group, and dispose leaves no Python process', async () => {
    env = useFakeVllm();
    const runner = await newRunner();
    await collect(runner.execute(chat('r1', 'a')));
    const [pid] = enginePids();
    expect(isAlive(pid!)).toBe(true);
    if (existsSync(`/proc/${pid}/stat`)) {
      const processGroup = (p: number | string): number =>
        Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]);
      expect(processGroup(pid!)).toBe(pid);
      expect(processGroup('self')).not.toBe(pid);
    }
    await runner.dispose();
    expect(isAlive(pid!)).toBe(false);
    await runner.dispose(); // idempotent
  });
});
