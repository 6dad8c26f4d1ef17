import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenChunk } from '../../../src/core/model-runner.js';
import { createRemoteRunner } from '../../../src/runners/remote/index.js';
import type { RunningServer } from '../../../src/serve/start.js';
import { openAiClient, startVllmServer, useFakeVllm, type FakeEnv } from './helpers.js';

/**
 * Thinking end to end: the vLLM runner over the test double (which writes Gemma 4's raw thought channel), `serve`
 * answering OpenAI clients with `reasoning_content` apart from `content`, and the remote runner reading it back.
 */
const RAW = '<|channel>thought\nThey said hi. Keep it short.<channel|>Hi there!';
let env: FakeEnv;
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  env = useFakeVllm({ FAKE_VLLM_ANSWER: RAW });
  server = await startVllmServer();
  client = openAiClient(server);
}, 60_000);

afterAll(async () => {
  await server?.close();
  env?.restore();
});

type WithReasoning = { reasoning_content?: string };

describe('serve: thinking', () => {
  it('reasoning_effort: the thought goes to message.reasoning_content, never into content', async () => {
    const answer = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'low',
    });
    const message = answer.choices[0]!.message as (typeof answer.choices)[0]['message'] & WithReasoning;
    expect(message.content).toBe('Hi there!');
    expect(message.reasoning_content).toBe('They said hi. Keep it short.');
    // Thought tokens are counted from the engine's token ids, between <|channel> and <channel|> (markers
    // excluded, as vLLM's reasoning parsers count): "thought", "They", "said", "hi.", "Keep", "it", "short.".
    expect(answer.usage?.completion_tokens_details?.reasoning_tokens).toBe(7);
    expect(answer.usage?.completion_tokens).toBe(12);
  });

  it('streamed with chat_template_kwargs.enable_thinking: delta.reasoning_content, then delta.content', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      // vLLM's and llama-server's field, which the OpenAI client passes through.
      ...({ chat_template_kwargs: { enable_thinking: true } } as object),
    });
    let thought = '';
    let content = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string | null } & WithReasoning;
      thought += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
    }
    expect(thought).toBe('They said hi. Keep it short.');
    expect(content).toBe('Hi there!');
  });

  it('reasoning_effort none: no thinking asked of the model', async () => {
    const answer = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'none' as never,
    });
    const message = answer.choices[0]!.message as (typeof answer.choices)[0]['message'] & WithReasoning;
    // vLLM drops the channel markers when thinking is off: whatever the model wrote is the answer.
    expect(message.reasoning_content).toBeUndefined();
    expect(answer.usage?.completion_tokens_details).toBeUndefined();
  });

  it('the remote runner asks for thinking and reads the thought back apart', async () => {
    const remote = await createRemoteRunner({
      runtime: 'remote',
      model: 'gemma',
      weights: { kind: 'runtime-managed', id: 'gemma' },
      settings: { endpoint: `${server.url}/v1` },
    });
    const chunks: TokenChunk[] = [];
    for await (const chunk of remote.execute({
      requestId: 'r',
      model: 'gemma',
      messages: [{ role: 'user', content: 'hi' }],
      sampling: {},
      stream: true,
      thinking: true,
    })) {
      chunks.push(chunk);
    }
    await remote.dispose();
    expect(chunks.map((c) => c.thoughtDelta ?? '').join('')).toBe('They said hi. Keep it short.');
    expect(chunks.map((c) => c.textDelta).join('')).toBe('Hi there!');
    expect(chunks.at(-1)?.usage?.reasoning).toBe(7);
  });
});
