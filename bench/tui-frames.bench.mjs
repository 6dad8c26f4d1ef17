#!/usr/bin/env node
// `npm run bench -- tui-frames`: how often the chat TUI's visible text advances while an answer streams at full
// speed (issue 12: goal — at least every 100 ms). Drives the TUI's ChatController (dist/) over the real llama.cpp
// runner (tiny gemma4 GGUF, 1 thread) and Ink rendering into an in-memory terminal, and records when each frame
// is published; React draws it within the same task. Reports the longest and the median gap while streaming.
//
//   node bench/tui-frames.bench.mjs [--tokens N]
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { median, ROOT, writeBenchModel } from './lib/measure.mjs';

const index = process.argv.indexOf('--tokens');
const TOKENS = index > 0 ? Number(process.argv[index + 1]) : 1500;
process.env.NODE_ENV ??= 'production';

const load = (path) => import(pathToFileURL(join(ROOT, 'dist', ...path.split('/'))).href);
const { createRunner } = await load('runners/index.js');
const { Conversation } = await load('chat/conversation.js');
const { ChatController } = await load('ui/chat-controller.js');
const { ChatApp } = await load('ui/ChatApp.js');
const { themeFor } = await load('ui/theme.js');
const { render } = await import('ink');
const React = await import('react');

const modelPath = await writeBenchModel({ arch: 'gemma4', seed: 1 });
const runner = await createRunner({
  runtime: 'llama-cpp',
  model: 'bench-tiny',
  weights: { kind: 'local-path', path: modelPath },
  settings: { threads: 1, contextSize: 4096, gpu: false },
});
const conversation = new Conversation('bench-tiny', 'chat', { maxTokens: TOKENS, seed: 1 }, undefined);
const controller = new ChatController(runner, conversation, runner.describe(), { maxLiveChars: () => 119 });
const stdout = Object.assign(new PassThrough(), { columns: 120, rows: 40, isTTY: true });
stdout.resume();
const stdin = Object.assign(new PassThrough(), {
  isTTY: true,
  setRawMode: () => stdin,
  ref: () => stdin,
  unref: () => stdin,
});
const instance = render(React.createElement(ChatApp, { controller, theme: themeFor({}) }), {
  stdout,
  stdin,
  exitOnCtrlC: false,
  patchConsole: false,
  maxFps: 30,
});

const frames = [];
let streaming = false;
controller.subscribe(() => {
  const live = controller.getSnapshot().live;
  if (live && live.tokens > 0) {
    streaming = true;
    frames.push(performance.now());
  }
});
const started = performance.now();
controller.submit('Tell me a long story about the sea.');
while (controller.busy || !streaming) await new Promise((resolve) => setTimeout(resolve, 20));
const seconds = (performance.now() - started) / 1000;
const gaps = frames.slice(1).map((at, i) => at - frames[i]);
const stats = controller.getSnapshot().lastStats;
console.log(
  `tui-frames: ${stats?.outputTokens ?? '?'} tokens in ${seconds.toFixed(2)} s (${stats?.tokensPerSecond?.toFixed(0) ?? '?'} tok/s), ${frames.length} frames`,
);
console.log(`  longest gap between frames while streaming: ${Math.max(...gaps).toFixed(1)} ms (goal ≤ 100)`);
console.log(`  median gap: ${median(gaps).toFixed(1)} ms`);
instance.unmount();
await controller.close();
await runner.dispose();
process.exit(0);
