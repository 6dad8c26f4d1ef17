import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv } from '../helpers/cli.js';
import { createFakeBin } from '../../helpers/fake-bin.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';
import { eventually } from '../../serve/helpers.js';
import { pathVariants } from '../../serve/path-variants.js';
import { RawConnection, rawRequest, type RawRequest } from '../../serve/raw-http.js';
import { spawnServe, startServe, type ServeProcess } from './serve-process.js';

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
  it('the spellings tried include those of the issue', () => {
    expect(pathVariants('/v1/chat/completions')).toEqual(
      expect.arrayContaining([
        '/v%31/chat/completions',
        '//v1/chat/completions',
        '/v1/chat/completions.',
        '/V1/chat/completions',
        '/x/../v1/chat/completions',
      ]),
    );
    expect(pathVariants('/v1/models')).toContain('/%761/models');
    expect(pathVariants('/v1/completions')).toContain('/v%31/completions');
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

/** Requests with the key of the server above, to a server started for one describe block. */
const authorized = (request: RawRequest): RawRequest => ({
  ...request,
  headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...request.headers },
});

describe('serve: bodies and clients that are hostile or merely unusual', () => {
  let served: ServeProcess;
  beforeAll(async () => {
    served = await startServe(['--model', model, '--threads', '1', '--parallel', '2'], {
      ...env,
      ATOMR_INFER_API_KEY: KEY,
    });
  });
  afterAll(async () => {
    served.process.kill('SIGTERM');
    expect((await served.process).exitCode).toBe(0);
  });

  it('a 1.7 MB body of 40,000 short messages is refused (400, param messages) while /health answers', async () => {
    const messages = Array.from({ length: 40_000 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `message ${i}`,
    }));
    const body = JSON.stringify({ model: 'tiny-gemma3-it.gguf', messages, max_tokens: 1 });
    expect(Buffer.byteLength(body)).toBeGreaterThan(1_600_000);
    const [heavy, health] = await Promise.all([
      rawRequest(served.origin, authorized({ method: 'POST', path: '/v1/chat/completions', body })),
      rawRequest(served.origin, { path: '/health' }),
    ]);
    expect(heavy.status).toBe(400);
    expect(JSON.parse(heavy.body)).toMatchObject({ error: { code: 'invalid_value', param: 'messages' } });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
  });

  it("curl -d '' (form encoding, no bytes) → 400 empty_body", async () => {
    const response = await rawRequest(
      served.origin,
      authorized({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      }),
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'empty_body' },
    });
  });

  it('an HTTP/1.0 stream says connection: close and ends with the socket', async () => {
    const body = JSON.stringify({
      model: 'tiny-gemma3-it.gguf',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
      stream: true,
    });
    const response = await rawRequest(
      served.origin,
      authorized({ method: 'POST', path: '/v1/chat/completions', body, version: '1.0' }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe('close');
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(response.closed).toBe(true);
  });
});

describe('serve: loopback in any spelling needs no key', () => {
  it('--host 127.1 serves without a key, on 127.0.0.1', async () => {
    const served = await startServe(['--host', '127.1', '--model', model, '--threads', '1'], env);
    try {
      expect(new URL(served.origin).hostname).toBe('127.0.0.1');
      expect((await rawRequest(served.origin, { path: '/v1/models' })).status).toBe(200);
    } finally {
      served.process.kill('SIGTERM');
      expect((await served.process).exitCode).toBe(0);
    }
  });
});

describe('serve: SIGTERM in every phase ends with exit 0', () => {
  it('while the model is still being resolved (before the server listens)', async () => {
    // No --model and nothing provisioned: serve provisions the default deployment, whose probe runs nvidia-smi
    // and python3. Fakes that hang hold it in that phase, and say when it got there.
    const bin = createFakeBin();
    const marker = join(bin.dir, 'probing');
    for (const name of ['nvidia-smi', 'python3']) bin.addScript(name, `: > '${marker}'\nexec sleep 15`);
    try {
      const child = spawnServe([], bin.env({ base: env }));
      let stderr = '';
      child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      await eventually(() => existsSync(marker), 60_000);
      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode, stderr).toBe(0);
      expect(stderr).not.toMatch(/atomr-infer: |error|at .*\.js:\d+/i);
      expect(stderr).not.toContain('"msg":"loading model"');
    } finally {
      bin.cleanup();
    }
  });

  it('while the model loads', async () => {
    const served = await startServe(['--model', model, '--threads', '1'], env, 'loading model');
    served.process.kill('SIGTERM');
    const result = await served.process;
    expect(result.exitCode, served.stderr()).toBe(0);
    expect(served.stderr()).toContain('"msg":"stopped"');
  });

  it('with answers running: a kept-alive socket then gets {"status":"stopping"} and is closed', async () => {
    const args = ['--model', model, '--threads', '1', '--parallel', '2', '--shutdown-timeout', '120'];
    const served = await startServe(args, env);
    const chat = (maxTokens: number): RawRequest => ({
      method: 'POST',
      path: '/v1/chat/completions',
      body: JSON.stringify({
        model: 'tiny-gemma3-it.gguf',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: maxTokens,
      }),
    });
    // A long answer keeps the shutdown in its grace period; a shorter one on the kept-alive socket ends in it,
    // and node then reads the request sent behind it on that socket.
    const long = new RawConnection(served.origin);
    await long.write(chat(4000));
    const socket = new RawConnection(served.origin);
    await socket.write(chat(600));
    await eventually(async () => {
      const health = await rawRequest(served.origin, { path: '/health' });
      return (JSON.parse(health.body) as { active: number }).active === 2;
    }, 30_000);
    served.process.kill('SIGTERM');
    // Node reads a pipelined request at once: send it only once the shutdown has begun.
    await eventually(() => served.stderr().includes('"msg":"shutting down"'), 30_000);
    await socket.write({ path: '/health' });
    expect((await socket.read('POST', 60_000)).status).toBe(200);
    const late = await socket.read('GET', 60_000);
    expect(late.status, late.body).toBe(503);
    expect(JSON.parse(late.body)).toMatchObject({ status: 'stopping' });
    expect(late.headers.connection).toBe('close');
    expect(late.closed).toBe(true);
    expect((await long.read('POST', 60_000)).status).toBe(200);
    expect((await served.process).exitCode).toBe(0);
  });
});
