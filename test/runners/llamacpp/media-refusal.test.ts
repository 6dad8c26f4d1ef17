import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import { makePng, makeWav } from '../../helpers/media.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

/**
 * node-llama-cpp has no multimodal input: the real runner refuses image and audio parts with one clear line that
 * names the runtimes that can take them, and says so in describe() so callers check before sending.
 */
let runner: ModelRunner;
let modelPath: string;

beforeAll(async () => {
  modelPath = await writeTinyGguf({ arch: 'gemma4', seed: 11 });
  runner = await createLlamaCppRunner({
    runtime: 'llama-cpp',
    model: 'tiny-gemma4',
    weights: { kind: 'local-path', path: modelPath },
    settings: { threads: 1, contextSize: 512, gpu: false },
  });
});

afterAll(async () => {
  await runner?.dispose();
  if (modelPath) rmSync(dirname(modelPath), { recursive: true, force: true });
});

async function drain(stream: AsyncIterable<TokenChunk>): Promise<void> {
  for await (const _chunk of stream) void _chunk;
}

function batch(content: ExecuteBatch['messages'][number]['content']): ExecuteBatch {
  return {
    requestId: 'm1',
    model: 'tiny-gemma4',
    messages: [{ role: 'user', content }],
    sampling: { maxTokens: 2 },
    stream: true,
  };
}

describe('llama.cpp runner: media', () => {
  it('says it takes text only', () => {
    expect(runner.describe().media ?? []).toEqual([]);
  });

  it.each([
    ['image', { type: 'image' as const, data: makePng(4, 4), mediaType: 'image/png' as const }],
    ['audio', { type: 'audio' as const, data: makeWav(0.2), format: 'wav' as const }],
  ])('refuses an %s part naming --runtime vllm and a remote endpoint', async (kind, part) => {
    const error = await drain(runner.execute(batch([{ type: 'text', text: 'what is this?' }, part]))).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      `messages[0] contains an ${kind} part: the llama.cpp runner accepts text only`,
    );
    expect((error as UsageError).code).toBe('unsupported_content');
    expect((error as UsageError).hint).toContain('--runtime vllm');
    expect((error as UsageError).hint).toContain('--runtime remote');
  });

  it('still answers text after a refusal', async () => {
    await expect(drain(runner.execute(batch('hello')))).resolves.toBeUndefined();
  });
});
