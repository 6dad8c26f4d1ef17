import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID, startTinyServer, type TestServer } from './helpers.js';

/** The official OpenAI client against `serve` over the real llama.cpp runner (tiny GGUF, 1 thread). */

const KEY = 'serve-test-key-0123456789';
let t: TestServer;
let client: OpenAI;

beforeAll(async () => {
  t = await startTinyServer({ apiKey: KEY, parallel: 4 });
  await t.server.ready;
  client = new OpenAI({ baseURL: t.baseURL, apiKey: KEY, maxRetries: 0 });
});

afterAll(async () => {
  await t?.server.close();
});

const question = [{ role: 'user' as const, content: 'Tell me about lighthouses.' }];

describe('serve: OpenAI client, chat', () => {
  it('answers a chat completion as one JSON with usage', async () => {
    const answer = await client.chat.completions.create({
      model: MODEL_ID,
      messages: question,
      max_tokens: 12,
      temperature: 0,
    });
    expect(answer.object).toBe('chat.completion');
    expect(answer.model).toBe(MODEL_ID);
    expect(answer.id).toMatch(/^chatcmpl-/);
    const choice = answer.choices[0]!;
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content!.trim().length).toBeGreaterThan(0);
    expect(choice.finish_reason).toBe('length');
    expect(answer.usage!.completion_tokens).toBe(12);
    expect(answer.usage!.prompt_tokens).toBeGreaterThan(3);
    expect(answer.usage!.total_tokens).toBe(answer.usage!.prompt_tokens + 12);
  });

  it('streams the same answer as chunks ending in finish_reason, usage and [DONE]', async () => {
    const request = { model: MODEL_ID, messages: question, max_tokens: 10, temperature: 0, seed: 3 };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0]!.message.content);
    const finishing = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finishing.map((c) => c.choices[0]!.finish_reason)).toEqual(['length']);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBe(10);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('accepts an alias of the model and lists the model', async () => {
    const answer = await client.chat.completions.create({
      model: 'tiny-alias',
      messages: question,
      max_tokens: 2,
    });
    expect(answer.model).toBe(MODEL_ID);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL_ID]);
    expect((await client.models.retrieve(MODEL_ID)).id).toBe(MODEL_ID);
  });

  it('honours stop strings from the request', async () => {
    const free = await client.chat.completions.create({
      model: MODEL_ID,
      messages: question,
      max_tokens: 30,
      temperature: 0,
    });
    const words = free.choices[0]!.message.content!.trim().split(/\s+/);
    const stopWord = words[3]!;
    const stopped = await client.chat.completions.create({
      model: MODEL_ID,
      messages: question,
      max_tokens: 30,
      temperature: 0,
      stop: [stopWord],
    });
    expect(stopped.choices[0]!.finish_reason).toBe('stop');
    expect(stopped.choices[0]!.message.content).not.toContain(stopWord);
    expect(free.choices[0]!.message.content!.startsWith(stopped.choices[0]!.message.content!)).toBe(true);
  });
});

describe('serve: OpenAI client, completions', () => {
  it('answers /v1/completions, streamed and not', async () => {
    const request = { model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 };
    const whole = await client.completions.create(request);
    expect(whole.object).toBe('text_completion');
    expect(whole.choices[0]!.text.length).toBeGreaterThan(0);
    expect(whole.choices[0]!.finish_reason).toBe('length');
    expect(whole.usage!.completion_tokens).toBe(8);

    const stream = await client.completions.create({ ...request, stream: true });
    let text = '';
    const reasons: (string | null)[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      reasons.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(text).toBe(whole.choices[0]!.text);
    expect(reasons.filter(Boolean)).toEqual(['length']);
  });
});

describe('serve: concurrency', () => {
  it('gives each of 8 concurrent clients its own complete answer (4 decode together, 4 queue)', async () => {
    const prompts = Array.from({ length: 8 }, (_, i) => `Question number ${i}: what is ${i} plus ${i}?`);
    const ask = (content: string, max: number) =>
      client.chat.completions.create({
        model: MODEL_ID,
        messages: [{ role: 'user', content }],
        max_tokens: max,
        temperature: 0,
      });
    // Alone, one at a time: the reference answers.
    const alone: string[] = [];
    for (const [i, prompt] of prompts.entries()) {
      alone.push((await ask(prompt, 48 + i)).choices[0]!.message.content ?? '');
    }
    const { scheduler } = t.server.context;
    let mostActive = 0;
    let mostQueued = 0;
    const sampler = setInterval(() => {
      mostActive = Math.max(mostActive, scheduler.active);
      mostQueued = Math.max(mostQueued, scheduler.queued);
    }, 1);
    const together = await Promise.all(prompts.map((prompt, i) => ask(prompt, 48 + i)));
    clearInterval(sampler);
    expect(mostActive).toBe(4);
    expect(mostQueued).toBeGreaterThan(0);
    together.forEach((answer, i) => {
      expect(answer.usage!.completion_tokens).toBe(48 + i);
      expect(answer.choices[0]!.finish_reason).toBe('length');
      expect(answer.choices[0]!.message.content).toBe(alone[i]);
    });
    expect(new Set(together.map((a) => a.choices[0]!.message.content)).size).toBe(8);
  });
});
