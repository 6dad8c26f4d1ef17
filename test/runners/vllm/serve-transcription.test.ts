import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/serve/start.js';
import { makeMp3, makeWav } from '../../helpers/media.js';
import { mediaPythonInterpreter } from '../../helpers/media-python.js';
import { openAiClient, readRecord, startVllmServer, useFakeVllm, type FakeEnv } from './helpers.js';

/**
 * `POST /v1/audio/transcriptions` on the vLLM runner over the fake engine: the clip reaches the engine as audio
 * with an instruction to transcribe it, and the answer comes back in OpenAI's shape. Skipped with the reason
 * where the media venv cannot be made.
 */

let python: string | undefined;
let skipped = '';
let env: FakeEnv;
let server: RunningServer | undefined;
let client: OpenAI;

beforeAll(async () => {
  const found = await mediaPythonInterpreter();
  python = found.python;
  if (!python) {
    skipped = found.reason ?? 'unknown reason';
    console.warn(`serve transcription: skipped: ${skipped}`);
    return;
  }
  env = useFakeVllm();
  server = await startVllmServer({ python });
  client = openAiClient(server);
}, 300_000);

afterAll(async () => {
  await server?.close();
  env?.restore();
});

function lastRequest() {
  return readRecord(env.recordFile)
    .filter((e) => e.event === 'add_request')
    .at(-1) as { prompt?: string; params?: Record<string, unknown>; media?: unknown[] } | undefined;
}

async function post(form: FormData): Promise<Response> {
  return fetch(`${server?.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
}

function form(fields: Record<string, string>, file?: Uint8Array): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (file) data.append('file', new Blob([file]), 'clip.wav');
  return data;
}

describe('serve: /v1/audio/transcriptions', () => {
  it('transcribes a WAV through the OpenAI client: the clip reaches the engine, the answer is {text}', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const result = await client.audio.transcriptions.create({
      model: 'gemma',
      file: await toFile(makeWav(0.5, 16_000), 'clip.wav'),
      language: 'en',
      prompt: 'Ada Lovelace',
    });
    const request = lastRequest();
    expect(request?.media).toEqual([
      { kind: 'audio', type: '(numpy.ndarray, int)', dtype: 'float32', samples: 8000, sample_rate: 16_000 },
    ]);
    expect(request?.prompt).toContain('Transcribe this audio clip verbatim. The speech is in en.');
    expect(request?.prompt).toContain('Ada Lovelace<|audio|>');
    expect(request?.params?.temperature).toBe(0);
    // The fake's echo ends with what it heard.
    expect(result.text).toMatch(/\[audio 0\.50s 16000Hz\]$/);
  });

  it('an MP3 with response_format text answers plain text', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const response = await post(form({ model: 'gemma', response_format: 'text' }, makeMp3(20)));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(/\[audio 0\.\d\ds 44100Hz\]$/);
  });

  it('a bad form is a 400 naming the field, and nothing reaches the engine', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const before = readRecord(env.recordFile).length;
    const cases: [FormData, number, string, RegExp][] = [
      [form({ model: 'gemma' }), 400, 'file', /^file: an audio file/],
      [form({}, makeWav(0.1)), 400, 'model', /^model: a model id is required/],
      [form({ model: 'gemma' }, Buffer.alloc(4000, 3)), 400, '', /^file is not WAV or MP3 audio/],
      [form({ model: 'gemma' }, makeWav(31, 8000)), 400, '', /^file is too long \(31\.0 s\)/],
      [form({ model: 'gemma', response_format: 'srt' }, makeWav(0.1)), 400, 'response_format', /srt/],
      [form({ model: 'whisper-1' }, makeWav(0.1)), 404, 'model', /whisper-1/],
    ];
    for (const [body, status, param, message] of cases) {
      const response = await post(body);
      const { error } = (await response.json()) as { error: { message: string; param: string | null } };
      expect({ status: response.status, param: error.param ?? '' }).toEqual({ status, param });
      expect(error.message).toMatch(message);
    }
    const json = await fetch(`${server?.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemma', file: 'x' }),
    });
    expect(json.status).toBe(400);
    expect(readRecord(env.recordFile).length).toBe(before);
  });
});
