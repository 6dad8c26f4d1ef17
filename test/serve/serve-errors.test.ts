import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWav } from '../helpers/media.js';
import { MODEL_ID, eventually, startTinyServer, type TestServer } from './helpers.js';

/** Bad requests, auth and client disconnects against `serve` over the real llama.cpp runner. */

const KEY = 'serve-errors-key-0123456789';
let t: TestServer;

beforeAll(async () => {
  t = await startTinyServer({ apiKey: KEY, parallel: 2, bodyLimit: 64 * 1024 });
  await t.server.ready;
});

afterAll(async () => {
  await t?.server.close();
});

function post(path: string, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${t.server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    body,
    ...(signal ? { signal } : {}),
  });
}

async function errorOf(response: Response) {
  const body = (await response.json()) as {
    error: { message: string; type: string; param: string | null; code: string };
  };
  return { status: response.status, ...body.error };
}

const chatBody = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, ...extra });

describe('serve: invalid requests', () => {
  it('malformed JSON → 400 invalid_json', async () => {
    const error = await errorOf(await post('/v1/chat/completions', '{"model": "x", '));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_json' });
  });

  it.each([
    [{ messages: 'hello' }, 'messages'],
    [{ temperature: 'hot' }, 'temperature'],
    [{ temperature: 3 }, 'temperature'],
    [{ max_tokens: -1 }, 'max_tokens'],
    [{ messages: [] }, 'messages'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role'],
    [{ n: 2 }, 'n'],
    [{ stop: 42 }, 'stop'],
  ])('%o → 400 naming the field', async (extra, param) => {
    const error = await errorOf(await post('/v1/chat/completions', chatBody(extra)));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param });
    expect(error.message).toContain(param);
  });

  it('a body that is not an object, or a missing model → 400', async () => {
    expect((await errorOf(await post('/v1/chat/completions', '[1,2]'))).status).toBe(400);
    const noModel = await errorOf(await post('/v1/completions', JSON.stringify({ prompt: 'x' })));
    expect(noModel).toMatchObject({ status: 400, param: 'model' });
  });

  it('a body over the limit → 413', async () => {
    const huge = chatBody({ messages: [{ role: 'user', content: 'x'.repeat(200 * 1024) }] });
    const error = await errorOf(await post('/v1/chat/completions', huge));
    expect(error).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('reads JSON whatever the content type says, and rejects what is not JSON', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await post('/v1/chat/completions', chatBody({ max_tokens: 1 }), form)).status).toBe(200);
    const error = await errorOf(
      await post('/v1/chat/completions', 'hello', { 'content-type': 'text/plain' }),
    );
    expect(error).toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it.each([false, true])(
    'an image part for the text-only llama.cpp runner → 400 naming it (stream: %s), not a silent drop',
    async (stream) => {
      const messages = [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in this picture?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ];
      const error = await errorOf(await post('/v1/chat/completions', chatBody({ messages, stream })));
      expect(error).toMatchObject({
        status: 400,
        type: 'invalid_request_error',
        code: 'unsupported_content',
      });
      expect(error.message).toBe(
        'messages[0] contains an image part: the llama.cpp runner accepts text only (hint: images and audio need ' +
          'the vLLM runtime (--runtime vllm) or a remote endpoint (--runtime remote --endpoint URL))',
      );
    },
  );

  it('a transcription on the text-only llama.cpp runner → 400 naming the runtimes that hear audio', async () => {
    const form = new FormData();
    form.append('model', MODEL_ID);
    form.append('file', new Blob([makeWav(0.2)]), 'clip.wav');
    const response = await fetch(`${t.server.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: form,
    });
    const error = await errorOf(response);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_content' });
    expect(error.message).toBe(
      'file: the llama.cpp runner does not take audio, so it cannot transcribe (hint: images and audio need the ' +
        'vLLM runtime (--runtime vllm) or a remote endpoint (--runtime remote --endpoint URL))',
    );
  });

  it('a form sent to the chat route is still read as JSON (400 invalid_json)', async () => {
    const form = new FormData();
    form.append('model', MODEL_ID);
    const response = await fetch(`${t.server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      body: form,
    });
    expect(await errorOf(response)).toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it('an unknown model → 404 model_not_found, through the OpenAI client too', async () => {
    const error = await errorOf(await post('/v1/chat/completions', chatBody({ model: 'gpt-4o' })));
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(error.message).toContain(MODEL_ID);
    const client = new OpenAI({ baseURL: t.baseURL, apiKey: KEY, maxRetries: 0 });
    await expect(
      client.completions.create({ model: 'nope', prompt: 'x', max_tokens: 2 }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.models.retrieve('nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('serve: API key', () => {
  it('a missing key → 401 with WWW-Authenticate', async () => {
    const response = await fetch(`${t.baseURL}/models`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await errorOf(response)).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
  });

  it('a wrong key → 401 through the OpenAI client, and the key is never echoed', async () => {
    const client = new OpenAI({ baseURL: t.baseURL, apiKey: 'wrong-key-987654321', maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: MODEL_ID, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(JSON.stringify(error)).not.toContain('wrong-key-987654321');
    expect(t.logs.text()).not.toContain(KEY);
    expect(t.logs.text()).not.toContain('wrong-key-987654321');
  });

  it('/health needs no key', async () => {
    const response = await fetch(`${t.server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', model: MODEL_ID, parallel: 2 });
  });
});

describe('serve: client disconnect', () => {
  const endless = (stream: boolean) =>
    chatBody({ max_tokens: 1_000_000, stream, messages: [{ role: 'user', content: 'go on forever' }] });

  it('closing a stream mid-answer aborts its generation and frees the slot', async () => {
    const before = t.logs.messages('generation finished').length;
    const controller = new AbortController();
    const response = await post('/v1/chat/completions', endless(true), {}, controller.signal);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let received = 0;
    while (received < 5) {
      const { value } = await reader.read();
      received += new TextDecoder().decode(value).split('data: ').length - 1;
    }
    controller.abort();
    await eventually(() => t.logs.messages('generation finished').length > before);
    const finished = t.logs.messages('generation finished').at(-1)!;
    expect(finished.finish).toBe('abort');
    expect(Number(finished.completionTokens ?? 0)).toBeLessThan(100_000);
    await eventually(() => t.server.context.scheduler.active === 0);
  });

  it('a non-streaming client that hangs up aborts its generation too', async () => {
    const before = t.logs.messages('generation finished').length;
    const controller = new AbortController();
    const pending = post('/v1/chat/completions', endless(false), {}, controller.signal).catch(
      (e: unknown) => e,
    );
    await eventually(() => t.server.context.scheduler.active === 1);
    controller.abort();
    await pending;
    await eventually(() => t.logs.messages('generation finished').length > before);
    expect(t.logs.messages('generation finished').at(-1)!.finish).toBe('abort');
    await eventually(() => t.server.context.scheduler.active === 0);
  });
});
