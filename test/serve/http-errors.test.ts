import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/runners/index.js';
import { startServer, type RunningServer } from '../../src/serve/start.js';
import { jsonError, startFakeServer, type FakeServer } from '../runners/remote/fake-openai-server.js';

/**
 * serve's one error → status map, seen by a client: serve runs as a gateway over the remote runner to an
 * upstream (the external system, faked on loopback) that fails in chosen ways; each failure gets the status and
 * OpenAI error type the map names, on both generation routes, streamed or not.
 */
let upstream: FakeServer;
let server: RunningServer;
let mode: 'models-ok' | number = 'models-ok';

beforeAll(async () => {
  upstream = await startFakeServer((request, res) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'up' }] }));
      return;
    }
    jsonError(res, typeof mode === 'number' ? mode : 500, 'upstream says no');
  });
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    model: { id: 'up', aliases: [], created: 0 },
    loadRunner: () =>
      createRunner({
        runtime: 'remote',
        model: 'up',
        weights: { kind: 'runtime-managed', id: 'up' },
        settings: { endpoint: upstream.url, retries: { maxRetries: 0 } },
      }),
    parallel: 2,
    maxQueue: 4,
    shutdownGraceMs: 1000,
    log: { level: 'silent', format: 'json' },
  });
  await server.ready;
});

afterAll(async () => {
  await server?.close();
  await upstream?.close();
});

async function ask(path: string, stream: boolean) {
  const body =
    path === '/v1/completions'
      ? { model: 'up', prompt: 'hi', max_tokens: 2, stream }
      : { model: 'up', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream };
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

describe('serve: one error → status map', () => {
  it.each([
    [503, 502, 'server_error', 'remote-server-error'],
    [401, 502, 'server_error', 'remote-auth'],
    [429, 429, 'rate_limit_error', 'remote-rate-limited'],
  ])('upstream %i → %i %s (%s) on both routes', async (upstreamStatus, status, type, code) => {
    mode = upstreamStatus;
    for (const path of ['/v1/chat/completions', '/v1/completions']) {
      const answer = await ask(path, false);
      expect(answer.status, path).toBe(status);
      expect(JSON.parse(answer.text), path).toMatchObject({ error: { type, code } });
    }
  });

  it('a stream that fails before its first token gets the same status, not a 200 with an error event', async () => {
    mode = 401;
    const answer = await ask('/v1/chat/completions', true);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'remote-auth' } });
  });
});
