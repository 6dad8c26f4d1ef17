import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

/**
 * Issue 9 item 2: an answer may never outgrow the context. `max_tokens` beyond what the context holds (or none)
 * must end with finish reason `length` once prompt + answer fill the context — as llama-server does — instead of
 * generating on through context shifts and holding the slot for minutes.
 */
const CONTEXT = 256;
let requestCounter = 0;

function batch(
  prompt: string,
  maxTokens: number | undefined,
  extra: Partial<ExecuteBatch> = {},
): ExecuteBatch {
  return {
    requestId: `ctx-${++requestCounter}`,
    model: 'tiny',
    messages: [{ role: 'user', content: prompt }],
    sampling: { seed: 1, ...(maxTokens === undefined ? {} : { maxTokens }) },
    stream: true,
    ...extra,
  };
}

/**
 * Runs one answer; stops reading (and fails the expectations below) once more text chunks arrived than the
 * context has tokens — every chunk holds at least one token, so that many can only mean the answer overflowed.
 */
async function runBounded(
  runner: ModelRunner,
  b: ExecuteBatch,
): Promise<{ chunks: number; final: TokenChunk | undefined }> {
  let chunks = 0;
  let final: TokenChunk | undefined;
  for await (const chunk of runner.execute(b)) {
    if (chunk.textDelta) chunks++;
    if (chunk.finishReason) final = chunk;
    if (chunks > CONTEXT) break;
  }
  return { chunks, final };
}

function expectContextFull(result: { chunks: number; final: TokenChunk | undefined }): void {
  expect(result.chunks).toBeLessThanOrEqual(CONTEXT);
  expect(result.final?.finishReason).toBe('length');
  expect(result.final?.contextFull).toBe(true);
  const usage = result.final?.usage;
  expect(usage).toBeDefined();
  expect((usage?.input ?? 0) + (usage?.output ?? 0)).toBeLessThanOrEqual(CONTEXT);
  // The context filled up: the answer used (nearly) all of the room the prompt left.
  expect((usage?.input ?? 0) + (usage?.output ?? 0)).toBeGreaterThanOrEqual(CONTEXT - 1);
}

describe('llama.cpp runner: answers stop when the context is full', () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    const path = await writeTinyGguf({ arch: 'gemma4', seed: 21, endOfTurn: 'never' });
    runner = await createLlamaCppRunner({
      runtime: 'llama-cpp',
      model: 'tiny',
      weights: { kind: 'local-path', path },
      settings: { threads: 1, gpu: false, contextSize: CONTEXT },
    });
  });
  afterAll(() => runner?.dispose());

  it('the context is the size asked for', () => {
    expect(runner.describe().contextSize).toBe(CONTEXT);
  });

  it('max tokens far beyond the context (1e12) ends with length once prompt + answer fill the context', async () => {
    expectContextFull(await runBounded(runner, batch('Tell me everything.', 1e12)));
  });

  it('no max tokens at all ends the same way', async () => {
    expectContextFull(await runBounded(runner, batch('Tell me everything.', undefined)));
  });

  it('in completion mode too', async () => {
    expectContextFull(await runBounded(runner, batch('Once upon a time', 1_048_576, { mode: 'completion' })));
  });

  it('max tokens within the context ends at max tokens, and says the context was not the limit', async () => {
    const { final } = await runBounded(runner, batch('Tell me everything.', 12));
    expect(final).toMatchObject({ finishReason: 'length', usage: { output: 12 } });
    expect(final?.contextFull).not.toBe(true);
  });

  it('a follow-up turn after a full context still answers (the history is shortened to fit)', async () => {
    const first = await runBounded(runner, batch('Tell me everything.', 1e12));
    expect(first.final?.contextFull).toBe(true);
    const followUp: ExecuteBatch = {
      ...batch('And then?', 1e12),
      messages: [
        { role: 'user', content: 'Tell me everything.' },
        { role: 'assistant', content: 'word '.repeat(CONTEXT) },
        { role: 'user', content: 'And then?' },
      ],
    };
    const second = await runBounded(runner, followUp);
    expect(second.chunks).toBeLessThanOrEqual(CONTEXT);
    expect(second.final?.finishReason).toBe('length');
    expect(second.final?.contextFull).toBe(true);
    expect(second.final?.usage?.output).toBeGreaterThan(0);
  });

  it('a chat prompt that alone does not fit the context is refused (usage error), not answered from nothing', async () => {
    const huge = batch('word '.repeat(CONTEXT * 2), 10);
    await expect(runBounded(runner, huge)).rejects.toThrow(UsageError);
    await expect(runBounded(runner, huge)).rejects.toThrow(
      /^the prompt needs \d+ tokens; the 256-token context holds at most 231 with room for an answer$/,
    );
    // The runner is still usable afterwards.
    const { final } = await runBounded(runner, batch('Hi.', 3));
    expect(final).toMatchObject({ finishReason: 'length', usage: { output: 3 } });
  });

  it('a completion prompt longer than the context keeps its end and still stops at the context', async () => {
    const result = await runBounded(runner, batch('word '.repeat(CONTEXT * 2), 1e12, { mode: 'completion' }));
    expect(result.final?.finishReason).toBe('length');
    expect(result.final?.contextFull).toBe(true);
    expect(result.final?.usage?.output).toBeLessThanOrEqual(CONTEXT / 10);
  });
});

describe('llama.cpp runner: every sequence of a shared context (serve) is capped on its own', () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    const path = await writeTinyGguf({ arch: 'gemma3', seed: 22, endOfTurn: 'never' });
    runner = await createLlamaCppRunner({
      runtime: 'llama-cpp',
      model: 'tiny',
      weights: { kind: 'local-path', path },
      settings: { threads: 1, gpu: false, contextSize: CONTEXT, sequences: 2 },
    });
  });
  afterAll(() => runner?.dispose());

  it('two answers with max tokens 1e12 decoding together both end with length at the context size', async () => {
    const results = await Promise.all([
      runBounded(runner, batch('First question.', 1e12)),
      runBounded(runner, batch('Second, longer question about the sea and the sky.', 1e12)),
    ]);
    for (const result of results) expectContextFull(result);
  });
});
