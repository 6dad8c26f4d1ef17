import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteMediaPolicy } from '../../../src/serve/media-parts.js';
import type { RunningServer } from '../../../src/serve/start.js';
import { TINY_JPEG, dataUrl, makeMp3, makePng, makeWav } from '../../helpers/media.js';
import { mediaPythonInterpreter } from '../../helpers/media-python.js';
import { openAiClient, readRecord, startVllmServer, useFakeVllm, type FakeEnv } from './helpers.js';

/**
 * `serve` on the vLLM runner over the fake engine: image_url (data URLs; http(s) only with --allow-remote-media)
 * and input_audio parts reach the engine as vLLM takes them; bad media is a 400 naming the part, and nothing
 * reaches the engine. Skipped with the reason where the media venv (Pillow, numpy, soundfile) cannot be made.
 */

let python: string | undefined;
let skipped = '';
let env: FakeEnv;
const servers = new Map<RemoteMediaPolicy, RunningServer>();
let images: Server;
let imagesUrl = '';

beforeAll(async () => {
  const found = await mediaPythonInterpreter();
  python = found.python;
  if (!python) {
    skipped = found.reason ?? 'unknown reason';
    console.warn(`serve media: skipped: ${skipped}`);
    return;
  }
  env = useFakeVllm();
  for (const remote of ['off', 'public', 'any'] as const) {
    const server = await startVllmServer(
      { python },
      { media: { remote, timeoutMs: 500, maxBytes: 64 * 1024 } },
    );
    servers.set(remote, server);
  }
  // A loopback image server: a PNG, one too large, a 404, a redirect, and one that never answers.
  images = createServer((request, response) => {
    if (request.url === '/cat.png') return void response.end(makePng(7, 2));
    if (request.url === '/huge.png') return void response.end(Buffer.alloc(100 * 1024));
    if (request.url === '/moved') {
      response.writeHead(302, { location: '/cat.png' });
      return void response.end();
    }
    if (request.url === '/slow') return; // never answers
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
}, 300_000);

afterAll(async () => {
  for (const server of servers.values()) await server.close();
  images?.closeAllConnections();
  await new Promise((resolve) => (images ? images.close(resolve) : resolve(undefined)));
  env?.restore();
});

type Part = Record<string, unknown>;

async function ask(parts: Part[], remote: RemoteMediaPolicy = 'off'): Promise<Response> {
  const server = servers.get(remote);
  if (!server) throw new Error('no server');
  return fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gemma',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, ...parts] }],
    }),
  });
}

const image = (url: string): Part => ({ type: 'image_url', image_url: { url } });
const audio = (bytes: Uint8Array, format: string): Part => ({
  type: 'input_audio',
  input_audio: { data: Buffer.from(bytes).toString('base64'), format },
});

function engineRequests(): number {
  return readRecord(env.recordFile).filter((e) => e.event === 'add_request').length;
}

function lastMedia(): unknown {
  const adds = readRecord(env.recordFile).filter((e) => e.event === 'add_request');
  return (adds.at(-1) as { media?: unknown } | undefined)?.media;
}

async function expectRefused(response: Response, code: string, message: string | RegExp): Promise<void> {
  const body = (await response.json()) as { error: { code: string; message: string; type: string } };
  expect({ status: response.status, code: body.error.code, type: body.error.type }).toEqual({
    status: 400,
    code,
    type: 'invalid_request_error',
  });
  expect(body.error.message).toMatch(message);
}

describe('serve: images and audio on vLLM', () => {
  it('a PNG and a JPEG as data URLs reach the engine as PIL images (OpenAI client)', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const client = openAiClient(servers.get('off')!);
    const answer = await client.chat.completions.create({
      model: 'gemma',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: dataUrl('image/png', makePng(5, 3)) } },
            { type: 'image_url', image_url: { url: dataUrl('image/jpeg', TINY_JPEG) } },
          ],
        },
      ],
    });
    expect(answer.choices[0]?.message.content).toBe('Echo: Compare [image 5x3] [image 8x6]');
    expect(lastMedia()).toEqual([
      { kind: 'image', type: 'PIL.Image.Image', mode: 'RGB', size: [5, 3] },
      { kind: 'image', type: 'PIL.Image.Image', mode: 'RGB', size: [8, 6] },
    ]);
  });

  it('input_audio WAV and MP3 reach the engine as (waveform, rate)', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const response = await ask([audio(makeWav(0.5, 16_000), 'wav'), audio(makeMp3(20), 'mp3')]);
    expect(response.status).toBe(200);
    expect(lastMedia()).toMatchObject([
      { kind: 'audio', samples: 8000, sample_rate: 16_000 },
      { kind: 'audio', sample_rate: 44_100 },
    ]);
  });

  it('bad media is a 400 naming the part, and nothing reaches the engine', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const before = engineRequests();
    const part = /^messages\[0\]\.content\[1\] /;
    await expectRefused(
      await ask([image(dataUrl('image/png', Buffer.from('not a png')))]),
      'invalid_media',
      part,
    );
    await expectRefused(
      await ask([image('data:image/png;base64,@@@@')]),
      'invalid_media',
      /not valid base64/,
    );
    await expectRefused(
      await ask([image(dataUrl('text/plain', makePng(2, 2)))]),
      'invalid_media',
      /text\/plain/,
    );
    await expectRefused(await ask([audio(Buffer.alloc(3000, 9), 'wav')]), 'invalid_media', part);
    await expectRefused(
      await ask([audio(makeWav(31, 8000), 'wav')]),
      'invalid_media',
      /too long \(31\.0 s\)/,
    );
    await expectRefused(await ask([audio(makeMp3(10), 'wav')]), 'invalid_media', /is MP3 audio, not wav/);
    const flac = await ask([audio(makeWav(0.1), 'flac')]);
    expect(flac.status).toBe(400);
    expect(engineRequests()).toBe(before);
  });

  it('an http(s) URL is refused unless --allow-remote-media, and never fetched', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    await expectRefused(
      await ask([image(`${imagesUrl}/cat.png`)]),
      'remote_media_disabled',
      'messages[0].content[1] is an http(s) URL: this server fetches no URLs unless started with --allow-remote-media',
    );
  });

  it('--allow-remote-media refuses loopback and private addresses (SSRF)', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    for (const url of [
      `${imagesUrl}/cat.png`,
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:9/x',
    ]) {
      await expectRefused(
        await ask([image(url)], 'public'),
        'remote_media_blocked',
        /loopback, private or reserved/,
      );
    }
    // A name that resolves to loopback is checked where the connection is made, not by its spelling.
    const port = new URL(imagesUrl).port;
    await expectRefused(
      await ask([image(`http://localhost:${port}/cat.png`)], 'public'),
      'remote_media_blocked',
      /resolves to (127\.0\.0\.1|::1)/,
    );
  });

  it('--allow-remote-media=any fetches, with a size cap, a timeout, no redirects', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    expect((await ask([image(`${imagesUrl}/cat.png`)], 'any')).status).toBe(200);
    expect(lastMedia()).toEqual([{ kind: 'image', type: 'PIL.Image.Image', mode: 'RGB', size: [7, 2] }]);
    await expectRefused(await ask([image(`${imagesUrl}/huge.png`)], 'any'), 'invalid_media', /too large/);
    await expectRefused(await ask([image(`${imagesUrl}/gone`)], 'any'), 'media_fetch_failed', /HTTP 404/);
    await expectRefused(await ask([image(`${imagesUrl}/moved`)], 'any'), 'media_fetch_failed', /redirect/);
    await expectRefused(
      await ask([image(`${imagesUrl}/slow`)], 'any'),
      'media_fetch_failed',
      /within 0\.5 s/,
    );
  });
});
