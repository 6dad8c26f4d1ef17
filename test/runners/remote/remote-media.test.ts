import { afterEach, describe, expect, it } from 'vitest';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createRemoteRunner } from '../../../src/runners/remote/index.js';
import { TINY_JPEG, makeWav } from '../../helpers/media.js';
import { startFakeServer, streamChat, type FakeServer } from './fake-openai-server.js';

/** The remote runner passes images and audio through to the endpoint, in OpenAI's shapes, unchanged. */
let server: FakeServer | undefined;
let remote: ModelRunner | undefined;
afterEach(async () => {
  await remote?.dispose();
  await server?.close();
});

async function drain(stream: AsyncIterable<TokenChunk>): Promise<void> {
  for await (const _chunk of stream) void _chunk;
}

const batch = (mode?: 'completion'): ExecuteBatch => ({
  requestId: 'r1',
  model: 'served-model',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Describe both.' },
        { type: 'image', data: TINY_JPEG, mediaType: 'image/jpeg' },
        { type: 'audio', data: makeWav(0.1), format: 'wav' },
      ],
    },
  ],
  sampling: {},
  stream: true,
  ...(mode ? { mode } : {}),
});

async function start(settings: Record<string, unknown> = {}): Promise<ModelRunner> {
  server = await startFakeServer((_req, res) => streamChat(res, ['ok']));
  remote = await createRemoteRunner(
    {
      runtime: 'remote',
      model: 'served-model',
      weights: { kind: 'runtime-managed', id: 'served-model' },
      settings: { endpoint: server.url, apiKeyEnv: 'K', ...settings },
    },
    { env: { K: 'sk-remote-media-0123456789' } },
  );
  return remote;
}

describe('remote runner: media', () => {
  it('sends an image as an image_url data URL and audio as input_audio, byte for byte', async () => {
    const runner = await start();
    expect(runner.describe().media).toEqual(['image', 'audio']);
    await drain(runner.execute(batch()));
    const body = server!.requests.at(-1)!.body as { messages: { content: unknown }[] };
    expect(body.messages[0]?.content).toEqual([
      { type: 'text', text: 'Describe both.' },
      { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${TINY_JPEG.toString('base64')}` } },
      { type: 'input_audio', input_audio: { data: makeWav(0.1).toString('base64'), format: 'wav' } },
    ]);
  });

  it('refuses media in completion mode (a plain prompt has nowhere to put them), sending nothing', async () => {
    const runner = await start({ mode: 'completion' });
    expect(runner.describe().media).toEqual([]);
    await expect(drain(runner.execute(batch('completion')))).rejects.toThrow(
      'messages[0] contains an image part: the remote (completion mode) runner accepts text only',
    );
    expect(server!.requests.filter((request) => request.method === 'POST')).toEqual([]);
  });
});
