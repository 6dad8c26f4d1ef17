import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/chat/conversation.js';
import type { ContentPart } from '../../src/core/model-runner.js';
import { ChatController } from '../../src/ui/chat-controller.js';
import { makePng, makeWav } from '../helpers/media.js';
import { createScriptedRunner } from './helpers/scripted-runner.js';

/** The TUI's /image and /audio: a history line per attachment, the file sent with the next prompt. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'atomr-attach-'));
  writeFileSync(join(dir, 'cat.png'), makePng(640, 480));
  writeFileSync(join(dir, 'hello.wav'), makeWav(2.5, 16_000));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function controllerFor(runtime: 'vllm' | 'llama-cpp') {
  const runner = createScriptedRunner({
    answers: [['It is a cat.'], ['Still a cat.']],
    description: runtime === 'vllm' ? { runtime, media: ['image', 'audio'] } : { runtime },
  });
  const controller = new ChatController(
    runner,
    new Conversation('tiny', 'chat', {}, undefined),
    runner.describe(),
    { flushMs: 1 },
  );
  return { runner, controller };
}

const notices = (controller: ChatController) =>
  controller
    .getSnapshot()
    .history.flatMap((item) => (item.kind === 'notice' ? [`${item.tone}: ${item.text}`] : []));

async function settled(controller: ChatController, lines: number): Promise<void> {
  for (let i = 0; i < 200 && notices(controller).length < lines; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const kinds = (content: string | ContentPart[] | undefined) =>
  typeof content === 'string' || !content ? content : content.map((part) => part.type);

describe('TUI /image and /audio', () => {
  it('a prompt typed right after /image and /audio, before the files are read, still carries both, in order', async () => {
    const { runner, controller } = controllerFor('vllm');
    // The clip is larger than the picture: its read ends later, yet it was typed second.
    controller.submit(`/image ${join(dir, 'cat.png')}`);
    controller.submit(`/audio ${join(dir, 'hello.wav')}`);
    controller.submit('What is this?');
    await controller.idle();
    expect(kinds(runner.batches[0]?.messages.at(-1)?.content)).toEqual(['text', 'image', 'audio']);
    expect(notices(controller).map((line) => line.split(' · ')[0])).toEqual([
      'info: Attached image cat.png',
      'info: Attached audio hello.wav',
    ]);
  });

  it('show the attachment as a history line and send it with the next prompt only', async () => {
    const { runner, controller } = controllerFor('vllm');
    expect(controller.submit(`/image ${join(dir, 'cat.png')}`)).toBe('command');
    expect(controller.submit(`/audio ${join(dir, 'hello.wav')}`)).toBe('command');
    await settled(controller, 2);
    expect(notices(controller)).toEqual([
      expect.stringMatching(
        /^info: Attached image cat\.png · 640×480, [\d.]+ KB \(sent with your next prompt\)\.$/,
      ),
      expect.stringMatching(/^info: Attached audio hello\.wav · 2\.5 s, 16000 Hz, [\d.]+ KB /),
    ]);
    controller.submit('What is this?');
    await controller.idle();
    controller.submit('And now?');
    await controller.idle();
    const [first, second] = runner.batches;
    expect(kinds(first?.messages.at(-1)?.content)).toEqual(['text', 'image', 'audio']);
    // The next prompt is text; the earlier turn keeps its media in the history.
    expect(second?.messages.at(-1)?.content).toBe('And now?');
    expect(kinds(second?.messages[0]?.content)).toEqual(['text', 'image', 'audio']);
  });

  it('on llama.cpp, and for a missing file, say why in one line and attach nothing', async () => {
    const { runner, controller } = controllerFor('llama-cpp');
    controller.submit(`/image ${join(dir, 'cat.png')}`);
    await settled(controller, 1);
    expect(notices(controller)[0]).toMatch(
      /^error: \/image: the llama\.cpp runner accepts text only \(.*--runtime vllm/,
    );
    const vllm = controllerFor('vllm').controller;
    vllm.submit('/image nope.png');
    vllm.submit('/audio');
    await settled(vllm, 2);
    // In the order they were typed.
    expect(notices(vllm)).toEqual([
      'error: /image nope.png: no such file',
      'warn: Usage: /audio <path to the file>',
    ]);
    controller.submit('hi');
    await controller.idle();
    expect(runner.batches[0]?.messages.at(-1)?.content).toBe('hi');
  });
});
