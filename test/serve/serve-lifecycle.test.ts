import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { startServer } from '../../src/serve/start.js';
import { MODEL_ID, createTinyRunner, eventually, startTinyServer, type TestServer } from './helpers.js';

/** Loading, back-pressure and shutdown of `serve` over the real llama.cpp runner. */

const servers: TestServer[] = [];
afterEach(async () => {
  for (const t of servers.splice(0)) await t.server.close();
});

async function start(options: Parameters<typeof startTinyServer>[0]): Promise<TestServer> {
  const t = await startTinyServer(options);
  servers.push(t);
  return t;
}

const chat = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: MODEL_ID,
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 8,
    ...extra,
  });

function post(t: TestServer, body: string, signal?: AbortSignal) {
  return fetch(`${t.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(signal ? { signal } : {}),
  });
}

describe('serve: loading', () => {
  it('/health says 503 loading until the model is ready, and requests get 503 with Retry-After', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const t = await start({ parallel: 1, loadGate: gate });
    const loading = await fetch(`${t.server.url}/health`);
    expect(loading.status).toBe(503);
    expect(await loading.json()).toMatchObject({ status: 'loading' });
    const early = await post(t, chat());
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('5');
    expect(await early.json()).toMatchObject({ error: { code: 'model_loading' } });
    open();
    await t.server.ready;
    const ready = await fetch(`${t.server.url}/health`);
    expect(ready.status).toBe(200);
    expect((await post(t, chat())).status).toBe(200);
  });

  it('refuses a non-loopback host without a key before loading anything', async () => {
    let loaded = false;
    const attempt = startServer({
      host: '0.0.0.0',
      port: 0,
      model: { id: MODEL_ID, aliases: [], created: 0 },
      loadRunner: async () => {
        loaded = true;
        return createTinyRunner(1);
      },
      parallel: 1,
      maxQueue: 1,
      shutdownGraceMs: 0,
    });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/without an API key/);
    expect(loaded).toBe(false);
  });
});

describe('serve: back-pressure', () => {
  it('a full queue answers 429 with Retry-After at once; the others still complete', async () => {
    const t = await start({ parallel: 1, maxQueue: 1 });
    await t.server.ready;
    const long = chat({ max_tokens: 400 });
    const first = post(t, long);
    await eventually(() => t.server.context.scheduler.active === 1);
    const second = post(t, long);
    await eventually(() => t.server.context.scheduler.queued === 1);
    const third = await post(t, chat());
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await third.json()).toMatchObject({ error: { code: 'queue_full', type: 'rate_limit_error' } });
    const done = await Promise.all([first, second]);
    for (const response of done) {
      expect(response.status).toBe(200);
      expect(
        ((await response.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens,
      ).toBe(400);
    }
  });

  it('32 concurrent clients with 4 slots all get complete answers', async () => {
    const t = await start({ parallel: 4, maxQueue: 32 });
    await t.server.ready;
    const client = new OpenAI({ baseURL: t.baseURL, apiKey: 'unused', maxRetries: 0 });
    const answers = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        client.chat.completions.create({
          model: MODEL_ID,
          messages: [{ role: 'user', content: `client ${i}` }],
          max_tokens: 6,
          stream: true,
          stream_options: { include_usage: true },
        }),
      ).map(async (pending) => {
        let tokens = 0;
        for await (const chunk of await pending) tokens = chunk.usage?.completion_tokens ?? tokens;
        return tokens;
      }),
    );
    expect(answers).toEqual(Array(32).fill(6));
  });
});

describe('serve: graceful shutdown', () => {
  it('lets a running stream finish, refuses new work, then frees the model', async () => {
    const t = await start({ parallel: 2, shutdownGraceMs: 10_000 });
    await t.server.ready;
    const runner = t.server.context.runner!;
    const response = await post(t, chat({ max_tokens: 300, stream: true }));
    const reader = response.body!.getReader();
    await reader.read();
    const closing = t.server.close();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('"finish_reason":"length"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await closing;
    await expect(fetch(`${t.server.url}/health`)).rejects.toThrow();
    expect(() => runner.describe()).toThrow(/disposed/);
  });

  it('aborts what is still running after the grace period, with an error event and [DONE]', async () => {
    const t = await start({ parallel: 1, maxQueue: 4, shutdownGraceMs: 200 });
    await t.server.ready;
    const response = await post(t, chat({ max_tokens: 1_000_000, stream: true }));
    const queued = post(t, chat());
    await eventually(() => t.server.context.scheduler.queued === 1);
    const started = Date.now();
    const closing = t.server.close();
    expect((await queued).status).toBe(503);
    const text = await response.text();
    expect(text).toContain('"code":"shutting_down"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await closing;
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
