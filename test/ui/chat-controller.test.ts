import { afterEach, describe, expect, it, vi } from 'vitest';
import { Conversation } from '../../src/chat/conversation.js';
import { formatStats } from '../../src/chat/format-stats.js';
import { ChatController, MAX_FRAME_GAP_MS } from '../../src/ui/chat-controller.js';
import { noColorRequested, PLAIN_THEME, themeFor } from '../../src/ui/theme.js';
import { createScriptedRunner } from './helpers/scripted-runner.js';

function controllerFor(
  answers: (string | { thought: string })[][],
  options: { flushMs?: number; maxLiveChars?: number } = {},
) {
  const runner = createScriptedRunner({ answers });
  const controller = new ChatController(
    runner,
    new Conversation('tiny', 'chat', {}, undefined),
    runner.describe(),
    { flushMs: options.flushMs ?? 33, maxLiveChars: () => options.maxLiveChars ?? 2000 },
  );
  return { runner, controller };
}

/**
 * Answers paced by the scripted runner's delays and the controller's frame timer run on fake timers: the same
 * interleaving of deltas and frames as in real time, at once, and the same on a busy machine.
 */
function useFakeTimers(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
}

afterEach(() => {
  vi.useRealTimers();
});

/** Runs the answer `submit` started to its end on fake timers. */
async function finishAnswer(controller: ChatController): Promise<void> {
  await vi.runAllTimersAsync();
  await controller.idle();
}

describe('ChatController', () => {
  it('batches deltas: a fast answer of 2,000 tokens publishes a handful of frames, not one per token', async () => {
    const deltas = Array.from({ length: 2000 }, (_, i) => ` t${i}`);
    const { controller } = controllerFor([deltas], { flushMs: 1000 });
    let publishes = 0;
    controller.subscribe(() => publishes++);
    expect(controller.submit('go')).toBe('sent');
    await controller.idle();
    expect(publishes).toBeLessThan(10);
    const answer = controller
      .getSnapshot()
      .history.filter((item) => item.kind === 'answer')
      .map((item) => (item.kind === 'answer' ? item.text : ''))
      .join(' ');
    expect(answer.replace(/\s+/g, ' ').trim()).toBe(deltas.join('').trim());
  });

  it('moves finished lines into history while streaming so the live tail stays short', async () => {
    useFakeTimers();
    const deltas = Array.from({ length: 400 }, (_, i) => (i % 10 === 9 ? '\n' : ` w${i}`));
    const runner = createScriptedRunner({ answers: [deltas], delayMs: 1 });
    const controller = new ChatController(
      runner,
      new Conversation('m', 'chat', {}, undefined),
      runner.describe(),
      {
        flushMs: 5,
        maxLiveChars: () => 500,
      },
    );
    let longestLive = 0;
    controller.subscribe(() => {
      longestLive = Math.max(longestLive, controller.getSnapshot().live?.text.length ?? 0);
    });
    controller.submit('go');
    await finishAnswer(controller);
    expect(longestLive).toBeGreaterThan(0);
    expect(longestLive).toBeLessThan(200);
    expect(controller.getSnapshot().live).toBeUndefined();
  });

  it('with a writer, settled lines are written (whole lines) and only the last partial line becomes history', async () => {
    useFakeTimers();
    const deltas = Array.from({ length: 300 }, (_, i) => (i % 25 === 24 ? '\n' : ` w${i}`));
    const runner = createScriptedRunner({ answers: [deltas], delayMs: 1 });
    const controller = new ChatController(
      runner,
      new Conversation('m', 'chat', {}, undefined),
      runner.describe(),
      {
        flushMs: 5,
        renderBudget: 1,
        maxLiveChars: () => 60,
      },
    );
    const written: string[] = [];
    controller.attachWriter((text) => written.push(text));
    controller.submit('go');
    await finishAnswer(controller);
    expect(written.length).toBeGreaterThan(1);
    expect(written.every((text) => text.endsWith('\n'))).toBe(true);
    expect(
      written
        .join('')
        .split('\n')
        .every((line) => line.length <= 60),
    ).toBe(true);
    const answers = controller.getSnapshot().history.filter((item) => item.kind === 'answer');
    expect(answers).toHaveLength(1);
    const last = answers[0]?.kind === 'answer' ? answers[0].text : '';
    // Nothing lost, nothing doubled: the written lines plus the final item are the answer, re-wrapped.
    const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
    expect(squash(written.join('') + last)).toBe(squash(deltas.join('')));
  });

  it('spaces frames out when rendering is slow, yet the text advances at least every 90 ms', async () => {
    useFakeTimers();
    // 400 deltas, 2 ms apart: an 800 ms answer.
    const runner = createScriptedRunner({ answers: [Array.from({ length: 400 }, () => ' x')], delayMs: 2 });
    const controller = new ChatController(
      runner,
      new Conversation('m', 'chat', {}, undefined),
      runner.describe(),
      { flushMs: 5, renderBudget: 0.05, now: () => Date.now() },
    );
    const frames: number[] = [];
    controller.subscribe(() => {
      frames.push(Date.now());
      vi.setSystemTime(Date.now() + 10); // every frame takes 10 ms to render
    });
    controller.submit('go');
    await finishAnswer(controller);
    // 10 ms frames at a 5 % budget would want 200 ms between frames; the ceiling keeps the text moving: each
    // frame starts 90 ms after the one before started (its 10 ms of drawing included), not every 5 ms, never
    // 200 ms later; the deltas come every 2 ms, so a frame may wait up to 2 ms for one (the last frame, the
    // finished answer, is drawn when the answer ends).
    const streaming = frames.slice(0, -1);
    expect(streaming.length).toBeGreaterThan(4);
    const gaps = streaming.slice(1).map((at, i) => at - streaming[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(MAX_FRAME_GAP_MS);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(MAX_FRAME_GAP_MS + 2);
  });

  it('refuses a second prompt while answering, and close() aborts the answer', async () => {
    const runner = createScriptedRunner({ answers: [Array.from({ length: 1000 }, () => ' x')], delayMs: 2 });
    const controller = new ChatController(
      runner,
      new Conversation('m', 'chat', {}, undefined),
      runner.describe(),
    );
    controller.submit('first');
    expect(controller.submit('second')).toBe('busy');
    await controller.close();
    const last = controller.getSnapshot().lastStats;
    expect(last?.finishReason).toBe('abort');
    expect(runner.batches).toHaveLength(1);
  });
});

describe('ChatController: thinking', () => {
  it('/think turns thinking on for the next turns; the thought shows dim, then folds to one line', async () => {
    useFakeTimers();
    // Paced: a frame falls between the thought and the answer, as when a real model thinks for a while.
    const runner = createScriptedRunner({
      answers: [[{ thought: 'Let me ' }, { thought: 'consider.' }, 'The', ' answer.']],
      delayMs: 50,
    });
    const controller = new ChatController(
      runner,
      new Conversation('tiny', 'chat', {}, undefined),
      runner.describe(),
      { flushMs: 20, now: () => Date.now() },
    );
    expect(controller.submit('/think')).toBe('command');
    expect(controller.getSnapshot().history.at(-1)).toMatchObject({ kind: 'notice', text: /Thinking on/ });
    const seenThoughts: string[] = [];
    controller.subscribe(() => {
      const live = controller.getSnapshot().live;
      if (live?.thought) seenThoughts.push(live.thought);
    });
    controller.submit('why?');
    await finishAnswer(controller);
    expect(runner.batches[0]?.thinking).toBe(true);
    const history = controller.getSnapshot().history;
    const answer = history
      .filter((item) => item.kind === 'answer')
      .map((item) => item.text)
      .join('');
    expect(answer).toBe('The answer.');
    expect(
      history.some(
        (item) => item.kind === 'notice' && /^thought for \d+\.\d s · 16 characters$/.test(item.text),
      ),
    ).toBe(true);
    expect(seenThoughts.at(-1)).toBe('Let me consider.');
    controller.submit('/think');
    expect(controller.getSnapshot().history.at(-1)).toMatchObject({ kind: 'notice', text: 'Thinking off.' });
  });
});

describe('ChatController: an answer cut off by a full context (issue 9 item 2)', () => {
  function run(finish: 'length' | 'context-full') {
    const runner = createScriptedRunner({
      answers: [['a', ' b']],
      finish,
      description: { contextSize: 256 },
    });
    const controller = new ChatController(
      runner,
      new Conversation('tiny', 'chat', {}, undefined),
      runner.describe(),
      { flushMs: 5 },
    );
    controller.submit('go');
    return controller;
  }

  it('adds a dim line saying the context is full, and the status line says so', async () => {
    const controller = run('context-full');
    await controller.idle();
    const { history, lastStats } = controller.getSnapshot();
    const notes = history.filter((item) => item.kind === 'notice');
    expect(notes).toEqual([
      expect.objectContaining({
        tone: 'dim',
        text: expect.stringMatching(/^The 256-token context is full, so the answer stopped here\./),
      }),
    ]);
    expect(lastStats?.contextFull).toBe(true);
    expect(formatStats(lastStats!)).toMatch(/ · context full$/);
  });

  it('says nothing of the kind when max tokens ended the answer', async () => {
    const controller = run('length');
    await controller.idle();
    const { history, lastStats } = controller.getSnapshot();
    expect(history.filter((item) => item.kind === 'notice')).toEqual([]);
    expect(formatStats(lastStats!)).toMatch(/ · max tokens reached$/);
  });
});

describe('theme', () => {
  it('NO_COLOR (set and non-empty) turns colours off', () => {
    expect(noColorRequested({ NO_COLOR: '1' })).toBe(true);
    expect(noColorRequested({ NO_COLOR: '' })).toBe(false);
    expect(noColorRequested({})).toBe(false);
    expect(themeFor({ NO_COLOR: '1' })).toEqual(PLAIN_THEME);
    expect(themeFor({}).accent).toBeDefined();
  });
});
