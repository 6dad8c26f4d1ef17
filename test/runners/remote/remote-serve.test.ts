import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors.js';
import type { ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createRemoteRunner } from '../../../src/runners/remote/index.js';
import { MODEL_ID, eventually, startTinyServer, type TestServer } from '../../serve/helpers.js';

/** The remote runner against a real `atomr-infer serve` (llama.cpp, tiny GGUF) on loopback. */

const KEY = 'loopback-serve-key-123456';
let t: TestServer;
let remote: ModelRunner;

beforeAll(async () => {
  t = await startTinyServer({ apiKey: KEY, parallel: 2 });
  await t.server.ready;
  remote = await createRemoteRunner(
    {
      runtime: 'remote',
      model: MODEL_ID,
      weights: { kind: 'runtime-managed', id: MODEL_ID },
      settings: { endpoint: t.server.url, apiKeyEnv: 'LOOPBACK_KEY' },
    },
    { env: { LOOPBACK_KEY: KEY } },
  );
});

afterAll(async () => {
  await remote?.dispose();
  await t?.server.close();
});

async function collect(iterable: AsyncIterable<TokenChunk>): Promise<TokenChunk[]> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

const messages = [{ role: 'user' as const, content: 'Describe the sea.' }];

describe('remote runner → serve on loopback', () => {
  it('checks the endpoint on loadWeights, and names what it serves when the model is wrong', async () => {
    await remote.loadWeights({ kind: 'runtime-managed', id: MODEL_ID });
    const wrong = await createRemoteRunner({
      runtime: 'remote',
      model: 'other',
      weights: { kind: 'runtime-managed', id: 'other' },
      settings: { endpoint: t.baseURL, apiKey: KEY },
    });
    const error = await wrong.loadWeights({ kind: 'runtime-managed', id: 'other' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).hint).toContain(MODEL_ID);
    await wrong.dispose();
  });

  it('streams exactly the answer serve gives any OpenAI client, with its usage', async () => {
    const sampling = { maxTokens: 14, temperature: 0, seed: 5 };
    const chunks = await collect(
      remote.execute({ requestId: 'r1', model: MODEL_ID, messages, sampling, stream: true }),
    );
    const client = new OpenAI({ baseURL: t.baseURL, apiKey: KEY });
    const direct = await client.chat.completions.create({
      model: MODEL_ID,
      messages,
      max_tokens: 14,
      temperature: 0,
      seed: 5,
    });
    expect(chunks.map((c) => c.textDelta).join('')).toBe(direct.choices[0]!.message.content);
    expect(chunks.at(-1)).toMatchObject({
      finishReason: 'length',
      usage: { input: direct.usage!.prompt_tokens, output: 14 },
    });
  });

  it('runs completion mode through /v1/completions', async () => {
    const chunks = await collect(
      remote.execute({
        requestId: 'r2',
        model: MODEL_ID,
        messages: [{ role: 'user', content: 'The sea is' }],
        sampling: { maxTokens: 5, temperature: 0 },
        stream: true,
        mode: 'completion',
      }),
    );
    expect(chunks.at(-1)!.usage!.output).toBe(5);
    expect(chunks.map((c) => c.textDelta).join('').length).toBeGreaterThan(0);
  });

  it('aborting the remote request aborts the generation inside serve', async () => {
    const before = t.logs.messages('generation finished').length;
    const controller = new AbortController();
    const chunks: TokenChunk[] = [];
    for await (const chunk of remote.execute(
      { requestId: 'r3', model: MODEL_ID, messages, sampling: { maxTokens: 1_000_000 }, stream: true },
      { signal: controller.signal },
    )) {
      chunks.push(chunk);
      if (chunks.length === 3) controller.abort();
    }
    expect(chunks.at(-1)!.finishReason).toBe('abort');
    await eventually(() => t.logs.messages('generation finished').length > before);
    expect(t.logs.messages('generation finished').at(-1)!.finish).toBe('abort');
    await eventually(() => t.server.context.scheduler.active === 0);
  });

  it('a wrong key fails with the auth error, not a retry loop', async () => {
    const wrong = await createRemoteRunner(
      {
        runtime: 'remote',
        model: MODEL_ID,
        weights: { kind: 'runtime-managed', id: MODEL_ID },
        settings: { endpoint: t.baseURL, apiKeyEnv: 'K' },
      },
      { env: { K: 'not-the-key-0000' } },
    );
    await expect(
      collect(wrong.execute({ requestId: 'r4', model: MODEL_ID, messages, sampling: {}, stream: true })),
    ).rejects.toMatchObject({ code: 'remote-auth' });
    await wrong.dispose();
  });
});
