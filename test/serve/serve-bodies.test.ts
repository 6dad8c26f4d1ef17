import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatRequestSchema, samplingFrom } from '../../src/serve/schemas.js';
import { MODEL_ID, startTinyServer, type TestServer } from './helpers.js';
import { rawRequest } from './raw-http.js';

/**
 * Request bodies a hostile or unlucky client sends (issue 9): empty ones whatever the content type, tens of
 * thousands of messages, a max_tokens far beyond any context.
 */

let t: TestServer;

beforeAll(async () => {
  t = await startTinyServer({ parallel: 2 });
  await t.server.ready;
});

afterAll(async () => {
  await t?.server.close();
});

async function post(body: string | undefined, contentType?: string) {
  const response = await rawRequest(t.server.url, {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown> };
}

const messages = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `m${i}` }));

describe('serve: empty bodies', () => {
  it.each([
    ['application/x-www-form-urlencoded (curl -d "")', 'application/x-www-form-urlencoded', ''],
    ['application/json', 'application/json', ''],
    ['application/json; charset=utf-8, whitespace only', 'application/json; charset=utf-8', ' \r\n\t'],
    ['text/plain, whitespace only', 'text/plain', '   '],
    ['no content type', undefined, ''],
    ['no content type and no content-length', undefined, undefined],
  ])('%s → 400 empty_body', async (_name, contentType, body) => {
    const answer = await post(body, contentType);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { type: 'invalid_request_error', code: 'empty_body', message: expect.stringContaining('empty') },
    });
  });

  it('a body that is there but not JSON is still invalid_json, whatever the content type', async () => {
    for (const contentType of ['application/json', 'application/x-www-form-urlencoded', undefined]) {
      const answer = await post('model=x&messages=y', contentType);
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    }
  });
});

describe('serve: the number of messages is bounded', () => {
  it('40,000 short messages → 400 naming messages and the limit, before any work', async () => {
    const answer = await post(JSON.stringify({ model: MODEL_ID, messages: messages(40_000), max_tokens: 1 }));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { type: 'invalid_request_error', code: 'invalid_value', param: 'messages' },
    });
    expect(JSON.stringify(answer.body)).toContain('2048');
    expect(t.logs.messages('generation finished')).toHaveLength(0);
  });

  it('2048 messages, the limit, are answered', async () => {
    const answer = await post(
      JSON.stringify({ model: MODEL_ID, messages: messages(2048), max_tokens: 1 }),
      'application/json',
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ object: 'chat.completion' });
  });
});

describe('serve: max_tokens far beyond the context', () => {
  it.each([1e12, 1e20])('max_tokens %d is accepted: the answer starts streaming', async (maxTokens) => {
    const controller = new AbortController();
    const response = await fetch(`${t.server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_ID, messages: messages(1), max_tokens: maxTokens, stream: true }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"role":"assistant"');
    controller.abort();
  });

  it('the runner gets a whole number it can compare with the context', () => {
    const request = { model: 'm', messages: messages(1) };
    expect(samplingFrom(chatRequestSchema.parse({ ...request, max_tokens: 1e12 })).maxTokens).toBe(1e12);
    const huge = chatRequestSchema.parse({ ...request, max_completion_tokens: 1e300 });
    expect(samplingFrom(huge).maxTokens).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of [0, -1, 1.5]) {
      expect(chatRequestSchema.safeParse({ ...request, max_tokens: bad }).success).toBe(false);
    }
  });
});
