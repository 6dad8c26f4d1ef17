import { describe, expect, it } from 'vitest';
import { Conversation } from '../../src/cli/chat/conversation.js';
import { formatStats } from '../../src/cli/chat/format-stats.js';
import { ChatController } from '../../src/ui/chat-controller.js';
import { noColorRequested, PLAIN_THEME, themeFor } from '../../src/ui/theme.js';
import { createScriptedRunner } from './helpers/scripted-runner.js';

function controllerFor(answers: string[][], options: { flushMs?: number; maxLiveChars?: number } = {}) {
  const runner = createScriptedRunner({ answers });
  const controller = new ChatController(
    runner,
    new Conversation('tiny', 'chat', {}, undefined),
    runner.describe(),
    { flushMs: options.flushMs ?? 33, maxLiveChars: () => options.maxLiveChars ?? 2000 },
  );
  return { runner, controller };
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
    await controller.idle();
    expect(longestLive).toBeGreaterThan(0);
    expect(longestLive).toBeLessThan(200);
    expect(controller.getSnapshot().live).toBeUndefined();
  });

  it('with a writer, settled lines are written (whole lines) and only the last partial line becomes history', async () => {
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
    await controller.idle();
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

  it('spaces frames out when rendering is slow, so rendering stays within its share of the main thread', async () => {
    const runner = createScriptedRunner({ answers: [Array.from({ length: 400 }, () => ' x')], delayMs: 2 });
    const controller = new ChatController(
      runner,
      new Conversation('m', 'chat', {}, undefined),
      runner.describe(),
      {
        flushMs: 5,
        renderBudget: 0.05,
      },
    );
    let frames = 0;
    controller.subscribe(() => {
      frames++;
      const until = performance.now() + 10; // a 10 ms frame
      while (performance.now() < until);
    });
    const started = performance.now();
    controller.submit('go');
    await controller.idle();
    const seconds = (performance.now() - started) / 1000;
    // 10 ms frames at a 5 % budget: one frame per 200 ms at most (plus the first and the last).
    expect(frames).toBeLessThanOrEqual(Math.ceil(seconds / 0.2) + 3);
    expect(frames).toBeGreaterThan(2);
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
