// The chat path against raw node-llama-cpp in ONE process, alternating answer by answer: the same V8 heap, the
// same JIT state, the same moment of a noisy machine. What is left between the two is the per-token cost of our
// own layers (runner → Channel → stream → `--json` lines on stdout), without what merely being a bigger program
// costs (see docs/llamacpp.md, "Per-token overhead"). Both write what they generate to stdout as it comes (raw
// its text chunks, ours the `chat --json` lines), as a chat program must. The last stdout line is the result:
// the median of the per-pair ratios, and each ratio.
//
//   node bench/lib/chat-in-process.mjs '{"modelPath":"…","tokens":800,"rounds":16}' > /dev/null  (or a pipe)
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { median, ROOT } from './measure.mjs';

/* global AbortController */
const { modelPath, tokens = 800, rounds = 16, contextSize = 4096 } = JSON.parse(process.argv[2] ?? '{}');
const PROMPT = 'Tell me a long story about the sea.';
const SAMPLING = { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 };
const dist = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);

const { getLlama, LlamaChatSession, GemmaChatWrapper } = await import('node-llama-cpp');
const llama = await getLlama({ build: 'never', gpu: false });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize, threads: 1 });
const sequence = context.getSequence();
const session = new LlamaChatSession({ contextSequence: sequence, chatWrapper: new GemmaChatWrapper() });

async function raw() {
  session.setChatHistory([]);
  await sequence.clearHistory();
  let first;
  let last;
  await session.prompt(PROMPT, {
    maxTokens: tokens,
    ...SAMPLING,
    repeatPenalty: false,
    onTextChunk(chunk) {
      last = performance.now();
      first ??= last;
      process.stdout.write(chunk);
    },
  });
  return (tokens - 1) / ((last - first) / 1000);
}

const { createRunner } = await dist('runners/index.js');
const { runPlainChat } = await dist('cli/chat/plain-chat.js');
const { Conversation } = await dist('chat/conversation.js');
const runner = await createRunner({
  runtime: 'llama-cpp',
  model: 'bench',
  weights: { kind: 'local-path', path: modelPath },
  settings: { contextSize, threads: 1 },
});
const description = runner.describe();

async function ours() {
  const conversation = new Conversation('bench', 'chat', { maxTokens: tokens, ...SAMPLING }, undefined);
  const result = await runPlainChat(
    runner,
    description,
    conversation,
    PROMPT,
    { json: true, signal: new AbortController().signal },
    { stdout: process.stdout, stderr: process.stderr },
  );
  return result.tokensPerSecond;
}

// One warm-up pair (first answers pay for JIT and page faults), then the measured ones.
await raw();
await ours();
const ratios = [];
for (let round = 0; round < rounds; round++) {
  const a = await raw();
  const b = await ours();
  ratios.push(b / a);
}
await runner.dispose();
process.stdout.write(`${JSON.stringify({ ratio: median(ratios), ratios })}\n`);
process.exit(0);
