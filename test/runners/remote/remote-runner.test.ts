import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ModelError, RuntimeFailure } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, RunnerSpec, TokenChunk } from '../../../src/core/model-runner.js';
import { createRunner } from '../../../src/runners/index.js';
import { createRemoteRunner } from '../../../src/runners/remote/index.js';
import { jsonError, startFakeServer, streamChat, type FakeServer } from './fake-openai-server.js';

const KEY = 'sk-test-remote-key-0123456789';

let server: FakeServer | undefined;
const runners: ModelRunner[] = [];

afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.dispose();
  await server?.close();
  server = undefined;
});

function spec(endpoint: string, settings: Record<string, unknown> = {}): RunnerSpec {
  return {
    runtime: 'remote',
    model: 'served-model',
    weights: { kind: 'runtime-managed', id: 'served-model' },
    settings: { endpoint, apiKeyEnv: 'TEST_REMOTE_KEY', retries: { baseDelayMs: 10 }, ...settings },
  };
}

async function runner(
  endpoint: string,
  settings: Record<string, unknown> = {},
  options: Parameters<typeof createRemoteRunner>[1] = {},
): Promise<ModelRunner> {
  const created = await createRemoteRunner(spec(endpoint, settings), {
    env: { TEST_REMOTE_KEY: KEY },
    ...options,
  });
  runners.push(created);
  return created;
}

function batch(text = 'hello', maxTokens?: number): ExecuteBatch {
  return {
    requestId: `req-${Math.random()}`,
    model: 'served-model',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: text },
    ],
    sampling: maxTokens === undefined ? { temperature: 0 } : { temperature: 0, maxTokens },
    stream: true,
  };
}

async function collect(iterable: AsyncIterable<TokenChunk>): Promise<TokenChunk[]> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

const textOf = (chunks: TokenChunk[]): string => chunks.map((c) => c.textDelta).join('');

describe('remote runner: streaming', () => {
  it('streams the text in order and ends with usage and the finish reason', async () => {
    server = await startFakeServer((_req, res) =>
      streamChat(res, ['Hel', 'lo', ' there'], { usage: { prompt: 11, completion: 3 } }),
    );
    const remote = await runner(server.url);
    const chunks = await collect(remote.execute(batch('hi', 20)));
    expect(textOf(chunks)).toBe('Hello there');
    const last = chunks.at(-1)!;
    expect(last.finishReason).toBe('stop');
    expect(last.usage).toEqual({ input: 11, output: 3, cached: 0 });
    expect(chunks.slice(0, -1).every((c) => c.finishReason === undefined)).toBe(true);

    const sent = server.requests[0]!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.body).toMatchObject({
      model: 'served-model',
      stream: true,
      max_tokens: 20,
      temperature: 0,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(sent.body).not.toHaveProperty('top_k');
  });

  it('passes a response format through as OpenAI spells it', async () => {
    server = await startFakeServer((_req, res) => streamChat(res, ['{}']));
    const remote = await runner(server.url);
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    await collect(
      remote.execute({ ...batch('hi', 5), responseFormat: { type: 'json_schema', name: 'x', schema } }),
    );
    expect(server.requests[0]!.body).toMatchObject({
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
    });
  });

  it('is what createRunner builds for runtime "remote", ready: the endpoint was checked first', async () => {
    server = await startFakeServer((req, res) => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'served-model' }] }));
        return;
      }
      streamChat(res, ['ok']);
    });
    const built = await createRunner(spec(server.url));
    runners.push(built);
    expect(server.requests.map((request) => request.url)).toEqual(['/v1/models']);
    expect(built.runtimeKind).toBe('remote');
    expect(built.transportKind).toEqual({
      kind: 'remote-network',
      provider: server.url.slice(7, -3),
      endpoint: server.url,
    });
    expect(built.describe()).toMatchObject({ model: 'served-model', runtime: 'remote', mode: 'chat' });
    expect(built.gilPinned).toBe(false);
  });

  it('uses /completions with one prompt in completion mode, and reports length', async () => {
    server = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"text":"once upon","finish_reason":null}]}\r\n\r\n');
      res.write('data: {"choices":[{"index":0,"text":" a time","finish_reason":"length"}]}\r\n\r\n');
      res.end('data: [DONE]\r\n\r\n');
    });
    const remote = await runner(server.url, { mode: 'completion' });
    const chunks = await collect(
      remote.execute({ ...batch('Once', 2), messages: [{ role: 'user', content: 'Once' }] }),
    );
    expect(server.requests[0]!.url).toBe('/v1/completions');
    expect(server.requests[0]!.body).toMatchObject({ prompt: 'Once', max_tokens: 2 });
    expect(textOf(chunks)).toBe('once upon a time');
    expect(chunks.at(-1)!.finishReason).toBe('length');
    // No usage from the server: the runner still reports what it counted.
    expect(chunks.at(-1)!.usage!.output).toBe(2);
  });

  it('aborting the signal mid-answer closes the connection and ends with finish "abort"', async () => {
    server = await startFakeServer((_req, res) =>
      streamChat(
        res,
        Array.from({ length: 200 }, () => 'x'),
        { delayMs: 10 },
      ),
    );
    const remote = await runner(server.url);
    const controller = new AbortController();
    const chunks: TokenChunk[] = [];
    for await (const chunk of remote.execute(batch(), { signal: controller.signal })) {
      chunks.push(chunk);
      if (chunks.length === 3) controller.abort();
    }
    expect(chunks.at(-1)!.finishReason).toBe('abort');
    expect(chunks.length).toBeLessThan(10);
    await server.requests[0]!.closed;
    expect(server.requests[0]!.clientAborted()).toBe(true);
  });

  it('leaving the loop early closes the connection', async () => {
    server = await startFakeServer((_req, res) =>
      streamChat(
        res,
        Array.from({ length: 200 }, () => 'y'),
        { delayMs: 10 },
      ),
    );
    const remote = await runner(server.url);
    for await (const chunk of remote.execute(batch())) {
      if (chunk.textDelta) break;
    }
    await server.requests[0]!.closed;
    expect(server.requests[0]!.clientAborted()).toBe(true);
  });

  it('an error event mid-stream becomes a RuntimeFailure with the server message', async () => {
    server = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"par"}}]}\n\n');
      res.end('data: {"error":{"message":"engine crashed"}}\n\n');
    });
    const remote = await runner(server.url);
    await expect(collect(remote.execute(batch()))).rejects.toThrow(/failed mid-answer: engine crashed/);
  });

  it('a stream cut off before the end is an error, not a silently short answer', async () => {
    server = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"choices":[{"index":0,"delta":{"content":"half"}}]}\n\n');
    });
    const remote = await runner(server.url);
    await expect(collect(remote.execute(batch()))).rejects.toMatchObject({ code: 'remote-stream-cut' });
  });
});

describe('remote runner: retries and errors', () => {
  it('retries a 429 after the Retry-After it names, then succeeds', async () => {
    server = await startFakeServer((_req, res, index) => {
      if (index === 0) return jsonError(res, 429, 'slow down', { 'retry-after': '0.4' });
      return streamChat(res, ['fine']);
    });
    const retries: number[] = [];
    const remote = await runner(server.url, {}, { onRetry: (info) => retries.push(info.delayMs) });
    const chunks = await collect(remote.execute(batch()));
    expect(textOf(chunks)).toBe('fine');
    expect(server.requests).toHaveLength(2);
    expect(retries).toEqual([400]);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(380);
  });

  it('gives up on persistent 500s after the configured retries with the server message', async () => {
    server = await startFakeServer((_req, res) => jsonError(res, 500, 'CUDA out of memory'));
    const remote = await runner(server.url, { retries: { maxRetries: 2, baseDelayMs: 5 } });
    const error = await collect(remote.execute(batch())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect((error as RuntimeFailure).message).toMatch(/HTTP 500: CUDA out of memory/);
    expect(server.requests).toHaveLength(3);
  });

  it('a rejected key fails at once with a hint naming the variable, and never shows the key', async () => {
    server = await startFakeServer((req, res) =>
      jsonError(res, 401, `Incorrect API key provided: ${String(req.headers.authorization).slice(7)}`),
    );
    const remote = await runner(server.url);
    const error = (await collect(remote.execute(batch())).catch((e: unknown) => e)) as RuntimeFailure;
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error.code).toBe('remote-auth');
    expect(error.message).toContain('TEST_REMOTE_KEY');
    expect(error.hint).toContain('TEST_REMOTE_KEY');
    expect(`${error.message} ${error.hint}`).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });

  it('rebuildSession("remote-auth-failure") picks up a rotated key', async () => {
    const env: NodeJS.ProcessEnv = { TEST_REMOTE_KEY: 'sk-old-key-123456' };
    server = await startFakeServer((req, res) =>
      req.headers.authorization === 'Bearer sk-new-key-654321'
        ? streamChat(res, ['in'])
        : jsonError(res, 401, 'bad key'),
    );
    const remote = await createRemoteRunner(spec(server.url), { env });
    runners.push(remote);
    await expect(collect(remote.execute(batch()))).rejects.toMatchObject({ code: 'remote-auth' });
    env.TEST_REMOTE_KEY = 'sk-new-key-654321';
    await remote.rebuildSession('remote-auth-failure');
    expect(textOf(await collect(remote.execute(batch())))).toBe('in');
  });

  it('an unreachable endpoint is a RuntimeFailure naming it', async () => {
    server = await startFakeServer(() => undefined);
    const url = server.url;
    await server.close();
    server = undefined;
    const remote = await runner(url, { retries: { maxRetries: 1, baseDelayMs: 5 } });
    const error = (await collect(remote.execute(batch())).catch((e: unknown) => e)) as RuntimeFailure;
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error.code).toBe('remote-unreachable');
    expect(error.message).toContain(url);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a wrong base URL (404 without a model message) says to check the endpoint', async () => {
    server = await startFakeServer((_req, res) => jsonError(res, 404, 'Not Found'));
    const remote = await runner(server.url);
    await expect(collect(remote.execute(batch()))).rejects.toMatchObject({ code: 'remote-not-found' });
  });

  it('loadWeights checks that the endpoint serves the model', async () => {
    server = await startFakeServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'other-model' }] }));
    });
    const remote = await runner(server.url);
    const error = await remote
      .loadWeights({ kind: 'runtime-managed', id: 'served-model' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).hint).toContain('other-model');
    expect(server.requests[0]!.url).toBe('/v1/models');
  });
});

describe('remote runner: limits and cost', () => {
  it('never has more requests in flight than maxConcurrent', async () => {
    server = await startFakeServer((_req, res) => streamChat(res, ['a', 'b', 'c'], { delayMs: 15 }));
    const remote = await runner(server.url, { limits: { maxConcurrent: 2 } });
    const answers = await Promise.all(Array.from({ length: 5 }, () => collect(remote.execute(batch()))));
    expect(answers.map(textOf)).toEqual(Array(5).fill('abc'));
    expect(server.concurrency.max).toBe(2);
  });

  it('spaces requests to stay within requests per window', async () => {
    server = await startFakeServer((_req, res) => streamChat(res, ['r']));
    const remote = await runner(server.url, { limits: { requestsPerMinute: 2 } }, { rateWindowMs: 500 });
    await Promise.all(Array.from({ length: 3 }, () => collect(remote.execute(batch()))));
    const times = server.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(times[1]! - times[0]!).toBeLessThan(300);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(450);
  });

  it('holds requests back when the tokens per window are used up', async () => {
    server = await startFakeServer((_req, res) =>
      streamChat(res, ['t'], { usage: { prompt: 50, completion: 50 } }),
    );
    // Each request reserves ~its prompt + 100 max tokens; 150 tokens per window admits one at a time.
    const remote = await runner(server.url, { limits: { tokensPerMinute: 150 } }, { rateWindowMs: 400 });
    await Promise.all(Array.from({ length: 2 }, () => collect(remote.execute(batch('q', 100)))));
    const [first, second] = server.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(second! - first!).toBeGreaterThanOrEqual(350);
    expect(remote.rateLimits()).toEqual({ tokensPerMinute: 150 });
  });

  it('estimates cost from per-token prices, and is free without prices', async () => {
    const priced = await runner('http://127.0.0.1:9/v1', {
      prices: { inputUsdPerMillionTokens: 1, outputUsdPerMillionTokens: 4 },
    });
    const request = batch('x'.repeat(400), 1000);
    // ~100+ prompt tokens at $1/M plus 1000 output tokens at $4/M.
    const cost = priced.estimateCostUsd(request);
    expect(cost).toBeGreaterThan(0.004);
    expect(cost).toBeLessThan(0.0042);
    const free = await runner('http://127.0.0.1:9/v1');
    expect(free.estimateCostUsd(request)).toBe(0);
  });
});

describe('remote runner: settings', () => {
  it('rejects an unknown settings key by name', async () => {
    await expect(createRemoteRunner(spec('http://127.0.0.1:1/v1', { endpointt: 'x' }))).rejects.toThrow(
      /endpointt/,
    );
  });

  it('rejects an endpoint that is not an http(s) URL', async () => {
    const error = await createRemoteRunner(spec('ftp://example.com')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/ftp:\/\/example\.com.*http\(s\) URL/);
  });

  it('refuses credentials inside the endpoint URL without echoing them', async () => {
    const error = (await createRemoteRunner(spec('http://user:s3cr3t-pass@127.0.0.1:1/v1')).catch(
      (e: unknown) => e,
    )) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(`${error.message} ${error.hint}`).not.toContain('s3cr3t-pass');
  });

  it('adds /v1 to a bare host and keeps an explicit path', async () => {
    const bare = await runner('http://127.0.0.1:8080');
    expect(bare.transportKind).toMatchObject({ endpoint: 'http://127.0.0.1:8080/v1' });
    const custom = await runner('https://gateway.example.com/openai/v1/');
    expect(custom.transportKind).toMatchObject({ endpoint: 'https://gateway.example.com/openai/v1' });
  });
});
