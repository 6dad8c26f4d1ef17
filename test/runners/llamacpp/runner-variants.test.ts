import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError, RuntimeFailure } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { pickChatFormat } from '../../../src/runners/llamacpp/chat-format.js';
import { loadNodeLlamaCpp } from '../../../src/runners/llamacpp/engine.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import {
  GEMMA3_CHAT_TEMPLATE,
  GEMMA4_CHAT_TEMPLATE,
  writeMalformedGguf,
  writeTinyGguf,
} from '../../helpers/gguf/index.mjs';

/** Gemma 3 chat, base-model completion, several sequences, and disposal — each on its own tiny model. */
const paths: string[] = [];
let requestCounter = 0;

async function tinyRunner(
  options: Parameters<typeof writeTinyGguf>[0],
  settings: Record<string, unknown> = {},
  model = 'tiny',
): Promise<ModelRunner> {
  const path = await writeTinyGguf(options);
  paths.push(path);
  return createLlamaCppRunner({
    runtime: 'llama-cpp',
    model,
    weights: { kind: 'local-path', path },
    settings: { threads: 1, gpu: false, contextSize: 512, ...settings },
  });
}

function batch(prompt: string, maxTokens: number, extra: Partial<ExecuteBatch> = {}): ExecuteBatch {
  return {
    requestId: `r${++requestCounter}`,
    model: 'tiny',
    messages: [{ role: 'user', content: prompt }],
    sampling: { maxTokens, seed: 1 },
    stream: true,
    ...extra,
  };
}

async function run(
  runner: ModelRunner,
  b: ExecuteBatch,
): Promise<{ text: string; final: TokenChunk | undefined }> {
  let text = '';
  let final: TokenChunk | undefined;
  for await (const chunk of runner.execute(b)) {
    text += chunk.textDelta;
    if (chunk.finishReason) final = chunk;
  }
  return { text, final };
}

afterAll(() => {
  for (const path of paths) rmSync(dirname(path), { recursive: true, force: true });
});

describe('Gemma 3 chat', () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    runner = await tinyRunner({ arch: 'gemma3', seed: 4, endOfTurn: 'sometimes' });
  });
  afterAll(() => runner?.dispose());

  it('ends answers by itself at end of turn, with finish reason stop', async () => {
    const answers = await Promise.all(
      [1, 2, 3].map((seed) => run(runner, { ...batch('Hi!', 400), sampling: { seed, maxTokens: 400 } })),
    );
    // The model ends its turn after a few dozen tokens, well before the 400-token budget.
    for (const { final } of answers) {
      expect(final?.finishReason).toBe('stop');
      expect(final?.usage?.output).toBeLessThan(400);
    }
  });

  it('holds a multi-turn conversation: earlier turns are part of the prompt', async () => {
    const first = await run(runner, batch('Name a color.', 20));
    const second = await run(runner, {
      ...batch('And another?', 20),
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Name a color.' },
        { role: 'assistant', content: first.text },
        { role: 'user', content: 'And another?' },
      ],
    });
    expect(second.final?.usage?.input).toBeGreaterThan((first.final?.usage?.input ?? 0) + 10);
  });
});

describe('base (non-instruction-tuned) models', () => {
  let runner: ModelRunner;
  beforeAll(async () => {
    runner = await tinyRunner({ arch: 'gemma4', seed: 6, instructionTuned: false });
  });
  afterAll(() => runner?.dispose());

  it('run in plain completion mode: no chat template around the prompt', async () => {
    expect(runner.describe().mode).toBe('completion');
    const completion = await run(runner, batch('Once upon a time', 15));
    const chat = await run(runner, batch('Once upon a time', 15, { mode: 'chat' }));
    expect(completion.final).toMatchObject({ finishReason: 'length', usage: { output: 15 } });
    expect(completion.text.length).toBeGreaterThan(0);
    // The chat rendering adds turn markers and role names; the completion prompt is the text itself.
    expect(chat.final?.usage?.input).toBeGreaterThan((completion.final?.usage?.input ?? 0) + 3);
  });

  it('a catalog base variant is a completion model even when its file has a chat template', async () => {
    const catalogBase = await tinyRunner({ arch: 'gemma4', seed: 6 }, {}, 'google/gemma-4-E2B');
    try {
      expect(catalogBase.describe().mode).toBe('completion');
    } finally {
      await catalogBase.dispose();
    }
  });
});

describe('several sequences (serve)', () => {
  it('decodes concurrent requests together and each gets its own complete answer', async () => {
    const runner = await tinyRunner({ arch: 'gemma4', seed: 8 }, { sequences: 2 });
    try {
      const alone = await run(runner, batch('Tell me about rivers.', 25));
      const [a, b] = await Promise.all([
        run(runner, batch('Tell me about rivers.', 25)),
        run(runner, batch('Tell me about hills.', 25)),
      ]);
      expect(a.final).toMatchObject({ finishReason: 'length', usage: { output: 25 } });
      expect(b.final).toMatchObject({ finishReason: 'length', usage: { output: 25 } });
      expect(a.text).toBe(alone.text);
    } finally {
      await runner.dispose();
    }
  });

  it('with one sequence, a second request waits for the first instead of failing', async () => {
    const runner = await tinyRunner({ arch: 'gemma4', seed: 8 });
    try {
      const results = await Promise.all([run(runner, batch('One', 10)), run(runner, batch('Two', 10))]);
      expect(results.map((r) => r.final?.finishReason)).toEqual(['length', 'length']);
    } finally {
      await runner.dispose();
    }
  });
});

describe('dispose', () => {
  it('is idempotent, and the runner refuses work afterwards', async () => {
    const runner = await tinyRunner({ arch: 'gemma3', seed: 2 });
    await Promise.all([runner.dispose(), runner.dispose()]);
    await runner.dispose();
    await expect(run(runner, batch('Hello', 5))).rejects.toThrow(RuntimeFailure);
    expect(() => runner.describe()).toThrow(/disposed/);
    // Reading a property never throws, even after dispose.
    expect(runner.transportKind).toEqual({ kind: 'local-cpu', threads: 1 });
  });
});

describe('loadWeights', () => {
  it('swaps in another model; a broken file is refused before the loaded model is touched', async () => {
    const runner = await tinyRunner({ arch: 'gemma4', seed: 1 });
    try {
      const base = await writeTinyGguf({ arch: 'gemma3', seed: 2, instructionTuned: false });
      paths.push(base);
      await runner.loadWeights({ kind: 'local-path', path: base });
      expect(runner.describe().mode).toBe('completion');
      const broken = await writeMalformedGguf({ kind: 'duplicate-token' });
      paths.push(broken);
      await expect(runner.loadWeights({ kind: 'local-path', path: broken })).rejects.toThrow(ModelError);
      expect((await run(runner, batch('Still here', 5))).final?.finishReason).toBe('length');
    } finally {
      await runner.dispose();
    }
  });
});

describe('dispose with work in flight', () => {
  it('ends the running answer and the queued one with abort, then frees the model', async () => {
    const runner = await tinyRunner({ arch: 'gemma4', seed: 3 });
    const running: TokenChunk[] = [];
    const first = (async () => {
      for await (const chunk of runner.execute(batch('Go on forever.', 100_000))) running.push(chunk);
    })();
    // Queued behind the first request (one sequence).
    const queued = run(runner, batch('Me too.', 100_000));
    while (running.length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await runner.dispose();
    await first;
    expect(running.at(-1)?.finishReason).toBe('abort');
    expect((await queued).final?.finishReason).toBe('abort');
  });
});

describe('chat format choice', () => {
  it('follows the file template, then the architecture, without auto-resolution', async () => {
    const nlc = await loadNodeLlamaCpp();
    expect(pickChatFormat(nlc, { architecture: 'gemma3', chatTemplate: GEMMA4_CHAT_TEMPLATE }).kind).toBe(
      'gemma4',
    );
    expect(pickChatFormat(nlc, { architecture: 'gemma4', chatTemplate: GEMMA3_CHAT_TEMPLATE }).kind).toBe(
      'gemma',
    );
    expect(pickChatFormat(nlc, { architecture: 'gemma4', chatTemplate: undefined }).kind).toBe('gemma4');
    expect(pickChatFormat(nlc, { architecture: 'gemma3', chatTemplate: undefined }).kind).toBe('gemma');
    const custom =
      "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}";
    expect(pickChatFormat(nlc, { architecture: 'gemma3', chatTemplate: custom }).kind).toBe('jinja');
  });
});
