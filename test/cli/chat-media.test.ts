import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';
import { TINY_JPEG, makeMp3, makePng, makeWav } from '../helpers/media.js';
import { mediaPythonInterpreter } from '../helpers/media-python.js';
import { FAKE_VLLM_PATH, readRecord, vllmChatArgs } from '../runners/vllm/helpers.js';
import { writeCachedSnapshot } from '../helpers/hf-cache.js';

/**
 * `chat --image/--audio` through the built CLI: the files reach vLLM's engine (the test double, under a venv
 * with Pillow, numpy and soundfile — skipped with the reason where it cannot be made), and the llama.cpp runner
 * (a tiny GGUF) refuses them with one line naming the runtimes that can take them.
 */
const MODEL = 'google/gemma-4-E2B-it';
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let dir: string;
let gguf: string;
let python: string | undefined;
let skipped = '';

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  dir = join(env.HOME ?? '', 'media');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cat.png'), makePng(5, 3));
  writeFileSync(join(dir, 'dog.jpg'), TINY_JPEG);
  writeFileSync(join(dir, 'hello.wav'), makeWav(0.5, 16_000));
  writeFileSync(join(dir, 'hello.mp3'), makeMp3(20));
  writeFileSync(join(dir, 'notes.txt'), 'not a picture');
  gguf = await writeTinyGguf({ arch: 'gemma4', seed: 11 });
  const found = await mediaPythonInterpreter();
  python = found.python;
  if (!python) {
    skipped = found.reason ?? 'unknown reason';
    console.warn(`chat media: vLLM cases skipped: ${skipped}`);
  }
}, 300_000);

afterAll(() => {
  cleanup();
  if (gguf) rmSync(dirname(gguf), { recursive: true, force: true });
});

const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'));

describe('atomr-infer chat --image / --audio', () => {
  it('vLLM: two images and two clips reach the engine with the prompt', async (ctx) => {
    if (!python) return ctx.skip(skipped);
    const recordFile = join(dir, 'record.jsonl');
    const vllmEnv = {
      ...env,
      PYTHONPATH: FAKE_VLLM_PATH,
      ATOMR_INFER_PYTHON: python,
      FAKE_VLLM_RECORD_FILE: recordFile,
      PYTHONDONTWRITEBYTECODE: '1',
    };
    writeCachedSnapshot(env.HF_HUB_CACHE ?? '', MODEL, { 'config.json': '{}', 'model.safetensors': '' });
    const media = ['cat.png', 'dog.jpg', 'hello.wav', 'hello.mp3'].map((name) => join(dir, name));
    const run = await runCli(
      vllmChatArgs(
        MODEL,
        '--ctx',
        '4096',
        '--prompt',
        'What is this?',
        '--image',
        media[0]!,
        '--audio',
        media[2]!,
        '--image',
        media[1]!,
        '--audio',
        media[3]!,
      ),
      { env: vllmEnv, timeoutMs: 60_000 },
    );
    expect(run.stderr).not.toContain('atomr-infer:');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(
      /^Echo: What is this\? \[image 5x3\] \[image 8x6\] \[audio 0\.50s 16000Hz\] \[audio 0\.\d\ds 44100Hz\]\n$/,
    );
    const add = readRecord(recordFile).find((event) => event.event === 'add_request') as {
      media?: unknown[];
    };
    expect(add.media).toHaveLength(4);
  });

  it('llama.cpp: an image is refused with one line naming --runtime vllm and a remote endpoint (exit 2)', async () => {
    const run = await runCli(
      ['chat', '--model', gguf, '--threads', '1', '--prompt', 'hi', '--image', join(dir, 'cat.png')],
      { env },
    );
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([
      `atomr-infer: --image ${join(dir, 'cat.png')}: the llama.cpp runner accepts text only`,
    ]);
    expect(run.stderr).toContain('--runtime vllm');
    expect(run.stderr).toContain('--runtime remote');
    expect(run.stdout).toBe('');
  });

  it.each([
    [['--image', 'missing.png'], /--image .*missing\.png: no such file/],
    [['--image', 'notes.txt'], /--image .*notes\.txt is not an image/],
    [['--audio', 'cat.png'], /--audio .*cat\.png is not WAV or MP3 audio/],
  ])('%o → exit 2 with one line, before any model loads', async (flag, message) => {
    const [name, file] = flag as [string, string];
    const run = await runCli(['chat', '--model', gguf, '--prompt', 'hi', name, join(dir, file)], { env });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toHaveLength(1);
    expect(errorLines(run.stderr)[0]).toMatch(message);
  });
});
