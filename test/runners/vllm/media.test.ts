import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import type { ContentPart, ExecuteBatch, ModelRunner } from '../../../src/core/model-runner.js';
import { TINY_JPEG, makeMp3, makePng, makeWav } from '../../helpers/media.js';
import { mediaPythonInterpreter } from '../../helpers/media-python.js';
import { collect, makeRunner, readRecord, useFakeVllm, type FakeEnv } from './helpers.js';

/**
 * Images and audio through the vLLM runner, to the fake engine, which checks them as vLLM does (PIL images,
 * (waveform, rate) tuples, one placeholder per item) and records what it got. Runs under a venv with Pillow,
 * numpy and soundfile (vLLM's own media libraries); skipped with the reason where that venv cannot be made.
 */

let python: string | undefined;
let skipped = '';
let env: FakeEnv | undefined;
let runner: ModelRunner | undefined;

beforeAll(async () => {
  const found = await mediaPythonInterpreter();
  python = found.python;
  if (!python) {
    skipped = found.reason ?? 'unknown reason';
    console.warn(`vLLM media: skipped: ${skipped}`);
  }
}, 300_000);

afterEach(async () => {
  await runner?.dispose();
  runner = undefined;
  env?.restore();
  env = undefined;
});

function ask(parts: ContentPart[]): ExecuteBatch {
  return {
    requestId: 'm1',
    model: 'google/gemma-4-E2B-it',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, ...parts] }],
    sampling: {},
    stream: true,
  };
}

interface MediaRecord {
  kind: string;
  type: string;
  size?: number[];
  mode?: string;
  samples?: number;
  sample_rate?: number;
  dtype?: string;
}

function mediaSeen(): MediaRecord[] {
  const add = readRecord(env?.recordFile ?? '').find((event) => event.event === 'add_request');
  return ((add as { media?: MediaRecord[] } | undefined)?.media ?? []) as MediaRecord[];
}

async function start(settings: Record<string, unknown> = {}): Promise<ModelRunner | undefined> {
  if (!python) return undefined;
  env = useFakeVllm();
  runner = await makeRunner({ python, ...settings });
  return runner;
}

describe('vLLM runner: media', () => {
  it('says it takes images and audio, and gives a PNG and a JPEG to the engine as PIL images', async (ctx) => {
    const vllm = await start();
    if (!vllm) return ctx.skip(skipped);
    expect(vllm.describe().media).toEqual(['image', 'audio']);
    const { text } = await collect(
      vllm.execute(
        ask([
          { type: 'image', data: makePng(5, 3), mediaType: 'image/png' },
          { type: 'image', data: TINY_JPEG, mediaType: 'image/jpeg' },
        ]),
      ),
    );
    expect(mediaSeen()).toEqual([
      { kind: 'image', type: 'PIL.Image.Image', mode: 'RGB', size: [5, 3] },
      { kind: 'image', type: 'PIL.Image.Image', mode: 'RGB', size: [8, 6] },
    ]);
    const prompt = readRecord(env?.recordFile ?? '').find((e) => e.event === 'add_request')?.prompt;
    expect(prompt).toBe(
      '<start_of_turn>user\nWhat is this?<|image|><|image|><end_of_turn>\n<start_of_turn>model\n',
    );
    expect(text).toBe('Echo: What is this? [image 5x3] [image 8x6]');
  });

  it('gives a WAV and an MP3 as mono (waveform, sample rate) tuples at their own rates', async (ctx) => {
    const vllm = await start();
    if (!vllm) return ctx.skip(skipped);
    const { text } = await collect(
      vllm.execute(
        ask([
          { type: 'audio', data: makeWav(1.5, 22_050, 2), format: 'wav' },
          { type: 'audio', data: makeMp3(40), format: 'mp3' },
        ]),
      ),
    );
    const [wav, mp3] = mediaSeen();
    expect(wav).toEqual({
      kind: 'audio',
      type: '(numpy.ndarray, int)',
      dtype: 'float32',
      samples: 33_075,
      sample_rate: 22_050,
    });
    expect(mp3).toMatchObject({ kind: 'audio', dtype: 'float32', sample_rate: 44_100 });
    // 40 frames × 1152 samples, give or take the decoder's delay.
    expect(Math.abs((mp3?.samples ?? 0) - 46_080)).toBeLessThan(2_000);
    expect(text).toMatch(/^Echo: What is this\? \[audio 1\.50s 22050Hz\] \[audio 1\.0\ds 44100Hz\]$/);
  });

  it('an image whose header reads but whose data does not decode is a UsageError naming the media', async (ctx) => {
    const vllm = await start();
    if (!vllm) return ctx.skip(skipped);
    const png = makePng(5, 3);
    png[45] = (png[45] ?? 0) ^ 0xff; // inside IDAT: the chunk's CRC no longer matches
    const error = await collect(
      vllm.execute(ask([{ type: 'image', data: png, mediaType: 'image/png' }])),
    ).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('invalid_media');
    expect((error as UsageError).message).toMatch(
      /^request m1: media\[0\] \(image\/png\) could not be decoded: /,
    );
  });

  it('a text-only engine passes limit_mm_per_prompt 0 and refuses media before the engine', async (ctx) => {
    const vllm = await start({ limitMmPerPrompt: { image: 0, audio: 0 } });
    if (!vllm) return ctx.skip(skipped);
    expect(vllm.describe().media).toEqual([]);
    await expect(
      collect(vllm.execute(ask([{ type: 'audio', data: makeWav(0.5), format: 'wav' }]))),
    ).rejects.toThrow('messages[0] contains an audio part: the vLLM runner accepts text only');
    await collect(vllm.execute({ ...ask([]), requestId: 'm2' }));
    const args = readRecord(env?.recordFile ?? '').find((e) => e.event === 'engine_args');
    expect(args?.kwargs?.limit_mm_per_prompt).toEqual({ image: 0, audio: 0 });
    expect(mediaSeen()).toEqual([]);
  });
});
