import { afterEach, describe, expect, it } from 'vitest';
import { MODEL_ID, eventually, startTinyServer, type TestServer } from './helpers.js';
import { RawConnection, rawRequest, type RawRequest } from './raw-http.js';

/**
 * What kept-alive sockets and HTTP/1.0 clients see (issue 9 item 13): during shutdown every answer has one of
 * the documented shapes, and an HTTP/1.0 stream ends by closing the connection.
 */

const servers: TestServer[] = [];
afterEach(async () => {
  for (const t of servers.splice(0)) await t.server.close();
});

async function start(options: Parameters<typeof startTinyServer>[0]): Promise<TestServer> {
  const t = await startTinyServer(options);
  servers.push(t);
  await t.server.ready;
  return t;
}

const chat = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: MODEL_ID,
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 40,
    ...extra,
  });

const post = (body: string): RawRequest => ({
  method: 'POST',
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
  body,
});

describe('serve: requests on kept-alive sockets during shutdown', () => {
  it('get {"status":"stopping"} from /health and the OpenAI error shape elsewhere, then the socket closes', async () => {
    const t = await start({ parallel: 5, shutdownGraceMs: 10_000 });
    // A long answer keeps the shutdown in its grace period while the sockets below are still open.
    const long = new RawConnection(t.server.url);
    await long.write(post(chat({ max_tokens: 1_000_000, stream: true })));
    const late: [RawRequest, number, Record<string, unknown>][] = [
      [{ path: '/health' }, 503, { status: 'stopping', model: MODEL_ID }],
      [{ path: '/v1/models' }, 503, { error: { code: 'shutting_down', type: 'server_error' } }],
      [post(chat()), 503, { error: { code: 'shutting_down', type: 'server_error' } }],
      [{ path: '/nowhere' }, 503, { error: { code: 'shutting_down', type: 'server_error' } }],
    ];
    // Each socket is busy with an answer when the shutdown begins (so it is not closed as idle), and sends its
    // next request while that answer is still being generated.
    const sockets = late.map(() => new RawConnection(t.server.url));
    for (const socket of sockets) await socket.write(post(chat({ max_tokens: 300 })));
    await eventually(() => t.server.context.scheduler.active === 5);
    const closing = t.server.close();
    for (const [i, [request]] of late.entries()) await sockets[i]!.write(request);
    for (const [i, [request, status, body]] of late.entries()) {
      const first = await sockets[i]!.read('POST');
      expect(first.status).toBe(200);
      const second = await sockets[i]!.read(request.method);
      expect(second.status, `${request.method ?? 'GET'} ${request.path}`).toBe(status);
      expect(JSON.parse(second.body)).toMatchObject(body);
      expect(second.headers.connection).toBe('close');
      expect(second.closed).toBe(true);
    }
    await t.server.close();
    await closing;
    long.close();
  });
});

describe('serve: HTTP/1.0 clients', () => {
  it('a stream is sent with connection: close and ends by closing the socket', async () => {
    const t = await start({ parallel: 1 });
    const response = await rawRequest(t.server.url, {
      ...post(chat({ stream: true, max_tokens: 6 })),
      version: '1.0',
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/event-stream');
    expect(response.headers.connection).toBe('close');
    expect(response.headers['transfer-encoding']).toBeUndefined();
    expect(response.body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(response.closed).toBe(true);
  });

  it('a whole answer carries its length', async () => {
    const t = await start({ parallel: 1 });
    const response = await rawRequest(t.server.url, { ...post(chat({ max_tokens: 4 })), version: '1.0' });
    expect(response.status).toBe(200);
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
  });

  it('HTTP/1.1 streams keep the connection for the next request', async () => {
    const t = await start({ parallel: 1 });
    const connection = new RawConnection(t.server.url);
    const stream = await connection.send(post(chat({ stream: true, max_tokens: 3 })));
    expect(stream.headers['transfer-encoding']).toBe('chunked');
    expect(stream.closed).toBe(false);
    expect((await connection.send({ path: '/health' })).status).toBe(200);
    connection.close();
  });
});
