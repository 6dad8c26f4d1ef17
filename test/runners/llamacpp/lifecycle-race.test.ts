import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

/**
 * loadWeights, rebuildSession and dispose called without waiting for each other (serve's admin paths, a chat
 * that quits during a swap) must behave as if they ran one after another, in call order: every call settles,
 * the last model asked for is the one that answers, and nothing runs on a model that was already freed.
 */

let first: string;
let second: string;
/** What a runner that only ever loaded `second` answers to PROMPT (greedy, so the text is the model's). */
let secondAnswer: string;
const runners: ModelRunner[] = [];
let requestCounter = 0;

function batch(prompt: string): ExecuteBatch {
  return {
    requestId: `race-${++requestCounter}`,
    model: 'tiny',
    messages: [{ role: 'user', content: prompt }],
    sampling: { maxTokens: 12, temperature: 0 },
    stream: true,
    mode: 'completion',
  };
}

async function answer(runner: ModelRunner, prompt = 'Once upon a time'): Promise<string> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of runner.execute(batch(prompt))) chunks.push(chunk);
  expect(chunks.at(-1)).toMatchObject({ finishReason: 'length', usage: { output: 12 } });
  return chunks.map((chunk) => chunk.textDelta).join('');
}

async function runnerOn(path: string): Promise<ModelRunner> {
  const runner = await createLlamaCppRunner({
    runtime: 'llama-cpp',
    model: 'tiny',
    weights: { kind: 'local-path', path },
    settings: { threads: 1, gpu: false, contextSize: 256 },
  });
  runners.push(runner);
  return runner;
}

beforeAll(async () => {
  // An instruction-tuned model, then a base model from another seed: `describe().mode` and the text both tell
  // which of the two is loaded.
  first = await writeTinyGguf({ arch: 'gemma4', seed: 21 });
  second = await writeTinyGguf({ arch: 'gemma3', seed: 22, instructionTuned: false });
  const reference = await runnerOn(second);
  secondAnswer = await answer(reference);
  await reference.dispose();
});

afterAll(async () => {
  for (const runner of runners) await runner.dispose();
  for (const path of [first, second]) if (path) rmSync(dirname(path), { recursive: true, force: true });
});

describe('llama.cpp runner lifecycle: calls that overlap', () => {
  it('a rebuild asked for while a model swap is in flight rebuilds the new model, which then answers', async () => {
    const runner = await runnerOn(first);
    const firstAnswer = await answer(runner);
    expect(firstAnswer).not.toBe(secondAnswer);
    const load = runner.loadWeights({ kind: 'local-path', path: second });
    const rebuild = runner.rebuildSession('manual');
    await expect(Promise.all([load, rebuild])).resolves.toEqual([undefined, undefined]);
    expect(runner.describe().mode).toBe('completion');
    expect(await answer(runner)).toBe(secondAnswer);
  });

  it('a swap asked for while a rebuild is in flight runs after it, and the new model answers', async () => {
    const runner = await runnerOn(first);
    const rebuild = runner.rebuildSession('manual');
    const load = runner.loadWeights({ kind: 'local-path', path: second });
    await expect(Promise.all([rebuild, load])).resolves.toEqual([undefined, undefined]);
    expect(await answer(runner)).toBe(secondAnswer);
  });

  it('dispose during a swap waits for it to settle, and the runner refuses work afterwards', async () => {
    const runner = await runnerOn(first);
    const load = runner.loadWeights({ kind: 'local-path', path: second });
    const disposed = runner.dispose();
    const [loadOutcome, disposeOutcome] = await Promise.allSettled([load, disposed]);
    expect(disposeOutcome.status).toBe('fulfilled');
    // The swap was under way: it finishes (and dispose then frees what it loaded) or it is refused as disposed.
    if (loadOutcome.status === 'rejected') expect(loadOutcome.reason).toBeInstanceOf(RuntimeFailure);
    await expect(answer(runner)).rejects.toThrow(/disposed/);
    expect(() => runner.describe()).toThrow(/disposed/);
    await expect(runner.rebuildSession('manual')).rejects.toThrow(/disposed/);
    await expect(runner.loadWeights({ kind: 'local-path', path: first })).rejects.toThrow(/disposed/);
  });

  it('a rebuild and a swap queued behind dispose are refused, and nothing is loaded after it', async () => {
    const runner = await runnerOn(first);
    const rebuild = runner.rebuildSession('manual');
    const disposed = runner.dispose();
    const late = runner.loadWeights({ kind: 'local-path', path: second });
    const [rebuildOutcome, disposeOutcome, lateOutcome] = await Promise.allSettled([rebuild, disposed, late]);
    expect(disposeOutcome.status).toBe('fulfilled');
    expect(lateOutcome.status === 'rejected' && String(lateOutcome.reason)).toMatch(/disposed/);
    // The rebuild came first: it ran, or it was refused because dispose was asked for before its turn came.
    if (rebuildOutcome.status === 'rejected') expect(String(rebuildOutcome.reason)).toMatch(/disposed/);
    await expect(answer(runner)).rejects.toThrow(/disposed/);
  });
});
