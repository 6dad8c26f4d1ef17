import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from '../helpers/cli.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';
import { pathVariants } from '../../serve/path-variants.js';
import { rawRequest } from '../../serve/raw-http.js';
import { startServe, type ServeProcess } from './serve-process.js';

/**
 * Hostile and unlucky input against `atomr-infer serve` as a user runs it (issue 9): the built CLI on a tiny
 * generated GGUF, raw sockets for what well-behaved clients never send.
 */

const KEY = 'hostile-serve-key-0123456789';
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let model: string;

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  model = await writeTinyGguf({ arch: 'gemma3', seed: 5 });
});
afterAll(() => cleanup());

describe('serve with an API key: no spelling of a route gets past it', () => {
  let served: ServeProcess;
  beforeAll(async () => {
    served = await startServe(['--model', model, '--threads', '1', '--parallel', '1'], {
      ...env,
      ATOMR_INFER_API_KEY: KEY,
    });
  });
  afterAll(async () => {
    served.process.kill('SIGTERM');
    await served.process;
  });

  const chat = JSON.stringify({
    model: 'tiny-gemma3-it.gguf',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 2,
  });
  it.each([
    ['GET', '/v1/models', undefined],
    ['GET', '/v1/models/tiny-gemma3-it.gguf', undefined],
    ['POST', '/v1/chat/completions', chat],
    [
      'POST',
      '/v1/completions',
      JSON.stringify({ model: 'tiny-gemma3-it.gguf', prompt: 'hi', max_tokens: 2 }),
    ],
    ['GET', '/no/such/route', undefined],
  ])('%s %s: every spelling → 401 without the key, never an answer', async (method, path, body) => {
    for (const variant of pathVariants(path)) {
      const response = await rawRequest(served.origin, {
        method,
        path: variant,
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
      });
      const expected = variant.includes('\\') ? 400 : 401;
      expect(response.status, `${method} ${variant} → ${response.status} ${response.body}`).toBe(expected);
      expect(response.body).not.toContain('"object"');
    }
  });

  it('the key opens the canonical routes; /health needs none', async () => {
    const authorization = `Bearer ${KEY}`;
    const models = await rawRequest(served.origin, { path: '/v1/models', headers: { authorization } });
    expect(models.status).toBe(200);
    const answer = await rawRequest(served.origin, {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { authorization, 'content-type': 'application/json' },
      body: chat,
    });
    expect(answer.status).toBe(200);
    expect((await rawRequest(served.origin, { path: '/health' })).status).toBe(200);
    expect(served.stderr()).not.toContain(KEY);
  });
});
