import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ExecuteBatch,
  ModelRunner,
  SamplingParams,
  TokenChunk,
} from '../../../src/core/model-runner.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import { tinyVocabulary, writeTinyGguf } from '../../helpers/gguf/index.mjs';

/** One instruction-tuned tiny Gemma 4 model, loaded once for the whole file; threads pinned to 1 for speed. */
let runner: ModelRunner;
let modelPath: string;
let requestCounter = 0;

function batch(
  prompt: string,
  sampling: SamplingParams = {},
  extra: Partial<ExecuteBatch> = {},
): ExecuteBatch {
  return {
    requestId: `req-${++requestCounter}`,
    model: 'tiny-gemma4',
    messages: [{ role: 'user', content: prompt }],
    sampling,
    stream: true,
    ...extra,
  };
}

async function collect(stream: AsyncIterable<TokenChunk>): Promise<{ text: string; chunks: TokenChunk[] }> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { text: chunks.map((c) => c.textDelta).join(''), chunks };
}

beforeAll(async () => {
  modelPath = await writeTinyGguf({ arch: 'gemma4', seed: 11 });
  runner = await createLlamaCppRunner({
    runtime: 'llama-cpp',
    model: 'tiny-gemma4',
    weights: { kind: 'local-path', path: modelPath },
    settings: { threads: 1, contextSize: 1024, gpu: false },
  });
});

afterAll(async () => {
  await runner?.dispose();
  if (modelPath) rmSync(dirname(modelPath), { recursive: true, force: true });
});

describe('llama.cpp runner: streaming', () => {
  it('streams text deltas in order, then one final chunk with usage and finish reason', async () => {
    const { text, chunks } = await collect(
      runner.execute(batch('Tell me about the sea.', { maxTokens: 40, seed: 1 })),
    );
    const final = chunks.at(-1);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.every((c) => c.requestId === chunks[0]?.requestId)).toBe(true);
    // Only the last chunk carries the finish reason and usage.
    expect(chunks.slice(0, -1).every((c) => c.finishReason === undefined && c.usage === undefined)).toBe(
      true,
    );
    expect(final?.finishReason).toBe('length');
    expect(final?.usage?.output).toBe(40);
    expect(final?.usage?.input).toBeGreaterThan(5);
    // Readable-ish: the answer is made of the tiny model's vocabulary words.
    const vocabulary = new Set(tinyVocabulary().map((t) => t.replace('\u2581', '')));
    const words = text.split(/[\s.,!?;:]+/).filter(Boolean);
    expect(words.length).toBeGreaterThan(10);
    expect(words.every((w) => vocabulary.has(w))).toBe(true);
  });

  it('gives the same text for the same seed and different text for another seed', async () => {
    const sampling = { maxTokens: 30, temperature: 1, seed: 42 };
    const first = await collect(runner.execute(batch('Write a line about a river.', sampling)));
    const second = await collect(runner.execute(batch('Write a line about a river.', sampling)));
    const other = await collect(
      runner.execute(batch('Write a line about a river.', { ...sampling, seed: 43 })),
    );
    expect(second.text).toBe(first.text);
    expect(other.text).not.toBe(first.text);
  });

  it('stops at max tokens with finish reason length', async () => {
    const { chunks } = await collect(runner.execute(batch('Count.', { maxTokens: 7, seed: 3 })));
    expect(chunks.at(-1)).toMatchObject({ finishReason: 'length', usage: { output: 7 } });
  });

  it('stops at a stop string, which is left out of the text', async () => {
    const sampling = { maxTokens: 40, temperature: 0 };
    const full = await collect(runner.execute(batch('Describe a mountain.', sampling)));
    // A word from the middle of the greedy answer becomes the stop string.
    const words = full.text.trim().split(/\s+/);
    const stopWord = words[Math.floor(words.length / 2)] ?? '';
    const stop = ` ${stopWord}`;
    const stopped = await collect(
      runner.execute(batch('Describe a mountain.', { ...sampling, stop: [stop] })),
    );
    expect(stopped.chunks.at(-1)?.finishReason).toBe('stop');
    expect(stopped.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(stopped.text).not.toContain(stop);
  });

  it('reports prompt tokens served from the KV cache on a follow-up turn', async () => {
    const first = await collect(runner.execute(batch('Tell me a story.', { maxTokens: 10, seed: 5 })));
    const followUp: ExecuteBatch = {
      ...batch('And then?', { maxTokens: 10, seed: 5 }),
      messages: [
        { role: 'user', content: 'Tell me a story.' },
        { role: 'assistant', content: first.text },
        { role: 'user', content: 'And then?' },
      ],
    };
    const second = await collect(runner.execute(followUp));
    const usage = second.chunks.at(-1)?.usage;
    expect(usage?.input).toBeGreaterThan(first.chunks.at(-1)?.usage?.input ?? 0);
    expect(usage?.cached).toBeGreaterThan(0);
    expect(usage?.cached).toBeLessThan(usage?.input ?? 0);
  });

  it('uses the system prompt: a different system prompt changes the answer', async () => {
    const sampling = { maxTokens: 20, temperature: 0 };
    const plain = await collect(runner.execute(batch('Hello there.', sampling)));
    const withSystem = await collect(
      runner.execute({
        ...batch('Hello there.', sampling),
        messages: [
          { role: 'system', content: 'You are a terse pirate who answers in riddles about the ocean.' },
          { role: 'user', content: 'Hello there.' },
        ],
      }),
    );
    expect(withSystem.chunks.at(-1)?.usage?.input).toBeGreaterThan(plain.chunks.at(-1)?.usage?.input ?? 0);
    expect(withSystem.text).not.toBe(plain.text);
  });
});

describe('llama.cpp runner: stopping early', () => {
  it('stops decoding promptly when the signal aborts mid-answer, ending with finish reason abort', async () => {
    const controller = new AbortController();
    const chunks: TokenChunk[] = [];
    for await (const chunk of runner.execute(batch('Go on forever.', { maxTokens: 100_000 }), {
      signal: controller.signal,
    })) {
      chunks.push(chunk);
      if (chunks.length === 5) controller.abort();
    }
    const final = chunks.at(-1);
    expect(final?.finishReason).toBe('abort');
    // A few tokens may already be in flight when the abort lands, never thousands.
    expect(final?.usage?.output).toBeLessThan(50);
  });

  it('stops when the consumer leaves the loop, and the runner serves the next request', async () => {
    const started = performance.now();
    let seen = 0;
    for await (const chunk of runner.execute(batch('Go on forever.', { maxTokens: 100_000 }))) {
      if (chunk.textDelta) seen++;
      if (seen === 3) break;
    }
    // 100,000 tokens would take far longer than this; leaving the loop must have stopped generation.
    expect(performance.now() - started).toBeLessThan(5_000);
    const next = await collect(runner.execute(batch('Still there?', { maxTokens: 5 })));
    expect(next.chunks.at(-1)?.finishReason).toBe('length');
  });

  it('ends with abort without generating when the signal is already aborted', async () => {
    const { text, chunks } = await collect(
      runner.execute(batch('Hi', { maxTokens: 50 }), { signal: AbortSignal.abort() }),
    );
    expect(text).toBe('');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.finishReason).toBe('abort');
  });
});

describe('llama.cpp runner: lifecycle', () => {
  it('describes itself as a chat model on the CPU with the pinned thread count', () => {
    const description = runner.describe();
    expect(description).toMatchObject({ runtime: 'llama-cpp', mode: 'chat', contextSize: 1024 });
    expect(description.device).toBe('CPU · 1 thread');
    expect(runner.transportKind).toEqual({ kind: 'local-cpu', threads: 1 });
    expect(runner.rateLimits()).toBeUndefined();
    expect(runner.estimateCostUsd(batch('x'))).toBe(0);
  });

  it('rebuilds the session: a request in flight ends with abort and the next one works on a fresh context', async () => {
    const sampling = { maxTokens: 12, temperature: 1, seed: 9 };
    const before = await collect(runner.execute(batch('A fresh start.', sampling)));
    const chunks: TokenChunk[] = [];
    const inFlight = (async () => {
      for await (const chunk of runner.execute(batch('Go on forever.', { maxTokens: 100_000 })))
        chunks.push(chunk);
    })();
    while (chunks.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await runner.rebuildSession('context-poisoned');
    await inFlight;
    expect(chunks.at(-1)?.finishReason).toBe('abort');
    const after = await collect(runner.execute(batch('A fresh start.', sampling)));
    expect(after.text).toBe(before.text);
    // Nothing of the old context survived: no prompt tokens came from a cache.
    expect(after.chunks.at(-1)?.usage?.cached).toBe(0);
  });
});
