import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID, startTinyServer, type TestServer } from './helpers.js';
import { pathVariants } from './path-variants.js';
import { rawRequest, type RawResponse } from './raw-http.js';

/**
 * The API key guards every route but `/health`, on the route the router matched (issue 9 item 1: a prefix test
 * on the raw URL let `/v%31/chat/completions` through). Unknown paths get 401 too without the key, so nothing
 * about the routes leaks to a client without it.
 */

const KEY = 'serve-auth-key-0123456789';
let t: TestServer;

beforeAll(async () => {
  t = await startTinyServer({ apiKey: KEY, parallel: 1 });
  await t.server.ready;
});

afterAll(async () => {
  await t?.server.close();
});

const chat = JSON.stringify({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
const completion = JSON.stringify({ model: MODEL_ID, prompt: 'hi', max_tokens: 2 });
const ROUTES: { method: string; path: string; body?: string }[] = [
  { method: 'GET', path: '/v1/models' },
  { method: 'GET', path: `/v1/models/${MODEL_ID}` },
  { method: 'HEAD', path: '/v1/models' },
  { method: 'POST', path: '/v1/chat/completions', body: chat },
  { method: 'POST', path: '/v1/completions', body: completion },
  { method: 'GET', path: '/nowhere' },
  { method: 'DELETE', path: '/v1/models' },
  { method: 'OPTIONS', path: '/v1/chat/completions' },
];

function send(method: string, path: string, body: string | undefined, authorization?: string) {
  return rawRequest(t.server.url, {
    method,
    path,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(authorization === undefined ? {} : { authorization }),
    },
    ...(body === undefined ? {} : { body }),
  });
}

function expectRefused(response: RawResponse, what: string): void {
  expect(response.status, `${what} → ${response.status} ${response.body}`).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer');
  if (response.body !== '') {
    expect(JSON.parse(response.body)).toMatchObject({
      error: { type: 'authentication_error', code: 'invalid_api_key' },
    });
  }
}

/** node's HTTP parser rejects a `\\` in the request target before any route or hook runs. */
function expectInvalidHttp(response: RawResponse, what: string): void {
  expect(response.status, `${what} → ${response.status} ${response.body}`).toBe(400);
  if (response.body !== '') {
    expect(JSON.parse(response.body)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'bad_request' },
    });
  }
}

describe('serve: the API key on every spelling of every route', () => {
  for (const route of ROUTES) {
    const variants = pathVariants(route.path);
    it(`${route.method} ${route.path}: ${variants.length} spellings → 401 without the key or with a wrong one`, async () => {
      for (const path of variants) {
        const check = path.includes('\\') ? expectInvalidHttp : expectRefused;
        check(await send(route.method, path, route.body), `${route.method} ${path} (no key)`);
        const wrong = await send(route.method, path, route.body, 'Bearer wrong-key-0123456789');
        check(wrong, `${route.method} ${path} (wrong key)`);
      }
    });
  }

  it('with the key, the canonical routes answer 200', async () => {
    for (const route of ROUTES.slice(0, 5)) {
      const response = await send(route.method, route.path, route.body, `Bearer ${KEY}`);
      expect(response.status, `${route.method} ${route.path}`).toBe(200);
    }
  });

  it('with the key, an unknown path is a 404 in the OpenAI error shape', async () => {
    const response = await send('GET', '/nowhere', undefined, `Bearer ${KEY}`);
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('a malformed path is answered in the OpenAI error shape: 401 without the key, 400 with it', async () => {
    expectRefused(await send('GET', '/v1/models/%zz', undefined), 'GET /v1/models/%zz');
    const response = await send('GET', '/v1/models/%zz', undefined, `Bearer ${KEY}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('/health alone needs no key (GET and HEAD)', async () => {
    const health = await send('GET', '/health', undefined);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', model: MODEL_ID });
    expect((await send('HEAD', '/health', undefined)).status).toBe(200);
    expectRefused(await send('GET', '/health/extra', undefined), 'GET /health/extra');
  });
});
