import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, RuntimeFailure } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createRemoteRunner } from '../../../src/runners/remote/index.js';
import { parseRemoteSettings } from '../../../src/runners/remote/settings.js';
import {
  HTML_PAGE,
  fixedAnswer,
  stallAfterHeaders,
  startScriptedServer,
  startSilentServer,
  type HostileServer,
  type ScriptedHandler,
} from '../../helpers/hostile-servers.js';

/**
 * The remote runner against endpoints that hang or are not OpenAI APIs (issue 9, items 4 and 12): a one-line
 * RuntimeFailure (exit 5) naming the endpoint, promptly, and `/models` checked for the OpenAI list shape.
 */

let server: HostileServer | undefined;
const runners: ModelRunner[] = [];

afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.dispose();
  await server?.close();
  server = undefined;
});

async function runner(endpoint: string, settings: Record<string, unknown> = {}): Promise<ModelRunner> {
  const created = await createRemoteRunner(
    {
      runtime: 'remote',
      model: 'served-model',
      weights: { kind: 'runtime-managed', id: 'served-model' },
      settings: {
        endpoint,
        timeouts: { connectMs: 300, idleMs: 300 },
        retries: { maxRetries: 5, baseDelayMs: 1, maxDelayMs: 5 },
        ...settings,
      },
    },
    { env: {} },
  );
  runners.push(created);
  return created;
}

const batch: ExecuteBatch = {
  requestId: 'r1',
  model: 'served-model',
  messages: [{ role: 'user', content: 'hi' }],
  sampling: {},
  stream: true,
};

async function collect(iterable: AsyncIterable<TokenChunk>): Promise<TokenChunk[]> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

const load = (remote: ModelRunner): Promise<unknown> =>
  remote.loadWeights({ kind: 'runtime-managed', id: 'served-model' }).catch((e: unknown) => e);

/** `/models` answered by `models`, every other request by `other`. */
const route =
  (models: ScriptedHandler, other: ScriptedHandler): ScriptedHandler =>
  (req, res, index) =>
    (req.url?.endsWith('/models') ? models : other)(req, res, index);

describe('loadWeights checks that /models is an OpenAI model list', () => {
  it.each([
    ['an HTML page', HTML_PAGE, 'text/html', /answered HTTP 200 with an HTML page, not an OpenAI model list/],
    ['a status JSON', '{"status":"ok"}', 'application/json', /JSON without a "data" list of models/],
    ['data that is not a list', '{"data":"x"}', 'application/json', /JSON without a "data" list/],
    ['a list of strings', '{"data":["a"]}', 'application/json', /JSON without a "data" list/],
    ['malformed JSON', '{"data":[', 'application/json', /with malformed JSON/],
    ['an empty body', '', 'application/json', /with an empty body/],
  ])('%s: remote-bad-response (exit 5) naming the endpoint', async (_what, body, type, message) => {
    server = await startScriptedServer(fixedAnswer(body, type));
    const error = (await load(await runner(`${server.url}/v1`))) as RuntimeFailure;
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect(error).toMatchObject({ code: 'remote-bad-response', exitCode: 5 });
    expect(error.message).toContain(`${server.url}/v1/models`);
    expect(error.message).toMatch(message);
    expect(error.hint).toContain('--endpoint');
  });

  it('accepts an empty OpenAI list, and one that names the model', async () => {
    server = await startScriptedServer(fixedAnswer('{"object":"list","data":[]}', 'application/json'));
    expect(await load(await runner(`${server.url}/v1`))).toBeUndefined();
    await server.close();
    server = await startScriptedServer(fixedAnswer('{"data":[{"id":"served-model"}]}', 'application/json'));
    expect(await load(await runner(`${server.url}/v1`))).toBeUndefined();
  });
});

describe('an endpoint that hangs', () => {
  it('accepting and never answering: remote-timeout after two tries, though five retries are allowed', async () => {
    server = await startSilentServer();
    const error = (await load(await runner(`${server.url}/v1`))) as RuntimeFailure;
    expect(error).toMatchObject({ code: 'remote-timeout', exitCode: 5 });
    expect(error.message).toBe(`${server.url}/v1 did not answer within 0.3 s (2 tries)`);
    expect(server.hits()).toBe(2);
  });

  it('/models headers, then a body that never ends: remote-timeout', async () => {
    server = await startScriptedServer(stallAfterHeaders({ prefix: '{"data":[' }));
    const error = (await load(await runner(`${server.url}/v1`))) as RuntimeFailure;
    expect(error).toMatchObject({ code: 'remote-timeout', exitCode: 5 });
    expect(error.message).toMatch(
      /\/v1\/models sent its headers, then .* stopped sending: nothing for 0\.3 s/,
    );
  });

  it('a chat stream that stalls after its headers: remote-timeout, not a hang', async () => {
    server = await startScriptedServer(stallAfterHeaders({ contentType: 'text/event-stream' }));
    const remote = await runner(`${server.url}/v1`);
    await expect(collect(remote.execute(batch))).rejects.toMatchObject({
      code: 'remote-timeout',
      message: `${server.url}/v1 sent nothing for 0.3 s mid-answer`,
    });
  });

  it('a 500 whose error body never ends is still reported, without its detail', async () => {
    server = await startScriptedServer(
      route(
        fixedAnswer('{"data":[]}', 'application/json'),
        stallAfterHeaders({ status: 500, prefix: '{"error":' }),
      ),
    );
    const remote = await runner(`${server.url}/v1`, { retries: { maxRetries: 0 } });
    await expect(collect(remote.execute(batch))).rejects.toMatchObject({
      code: 'remote-server-error',
      message: `${server.url}/v1 failed with HTTP 500`,
    });
  });

  it('a stream event that is JSON but not a chunk is a protocol error', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: null\n\n');
    });
    const remote = await runner(`${server.url}/v1`);
    await expect(collect(remote.execute(batch))).rejects.toMatchObject({ code: 'remote-protocol' });
  });
});

describe('timeouts from the environment', () => {
  const raw = { endpoint: 'http://127.0.0.1:1/v1' };

  it('ATOMR_INFER_REMOTE_TIMEOUT and _IDLE_TIMEOUT set the defaults, in seconds', () => {
    const { settings } = parseRemoteSettings(raw, 'm', {
      ATOMR_INFER_REMOTE_TIMEOUT: '2.5',
      ATOMR_INFER_REMOTE_IDLE_TIMEOUT: '30',
    });
    expect(settings.timeouts).toEqual({ connectMs: 2500, idleMs: 30_000 });
    expect(parseRemoteSettings(raw, 'm', {}).settings.timeouts).toEqual({
      connectMs: 10_000,
      idleMs: 120_000,
    });
  });

  it('a deployment’s own timeouts win over the environment', () => {
    const { settings } = parseRemoteSettings({ ...raw, timeouts: { connectMs: 700 } }, 'm', {
      ATOMR_INFER_REMOTE_TIMEOUT: '2',
    });
    expect(settings.timeouts.connectMs).toBe(700);
  });

  it.each(['abc', '0', '-1', 'Infinity', '1e9'])('%s is a ConfigError naming the variable', (value) => {
    expect(() => parseRemoteSettings(raw, 'm', { ATOMR_INFER_REMOTE_TIMEOUT: value })).toThrow(ConfigError);
    expect(() => parseRemoteSettings(raw, 'm', { ATOMR_INFER_REMOTE_TIMEOUT: value })).toThrow(
      /ATOMR_INFER_REMOTE_TIMEOUT=.* is not valid: expected a number of seconds greater than 0/,
    );
  });
});
