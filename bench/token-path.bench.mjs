#!/usr/bin/env node
// `npm run bench -- token-path`: where one stream's token goes, on the peer benchmark's ~220 MB model, 1 thread.
//
// One answer at a time, the same model, sampling and token count, five ways, in rotating order each round:
//   llama-batched-bench    llama.cpp's decode alone (no sampling, no server): the engine's floor per token
//   llama-server           llama.cpp's own server: decode, sampling and streaming in its C++ slot loop
//   evaluate()             node-llama-cpp's LlamaContextSequence.evaluate, no chat layer (a child process)
//   LlamaChatSession       node-llama-cpp's chat layer on top, as the runner drives it (same child process)
//   atomr-infer chat       `chat --prompt --json`, the runner in the CLI (its own decode figure)
//   atomr-infer serve      our server, as installed
// Each prints time per token after the first, measured where a user would see it (the streaming client for the
// servers, the token callback for node-llama-cpp), and for node-llama-cpp also the time llama.cpp itself spent in
// `llama_decode` per token (its own counters: `performanceTracking`). What is left over is the per-token path
// outside the engine: for node-llama-cpp a decode on its thread pool, a second thread-pool task to sample, and
// JavaScript between them; llama-server does all of it on one thread. docs/serve.md, "What bounds one stream".
//
//   node bench/token-path.bench.mjs [--rounds R] [--tokens N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePeerBuild, runBatchedBench } from './lib/llama-peer-build.mjs';
import { argument, BENCH_SAMPLING, CLI_ARGV, median, ROOT, runInChild } from './lib/measure.mjs';
import { peerBenchModel } from './lib/model-shapes.mjs';
import { engineBinary, peerPrompt, startOurs, startPeer, streamOne } from './lib/peer-servers.mjs';

const ROUNDS = argument('--rounds', 5);
const TOKENS = argument('--tokens', 300);
const RAW_SCRIPT = join(ROOT, 'bench', 'lib', 'token-path-raw.mjs');

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const peer = ensurePeerBuild();
if (peer.skipped) {
  console.log(`token-path benchmark skipped: ${peer.skipped}`);
  process.exit(0);
}
const model = await peerBenchModel(peer.dir, 'mid');

/** llama-batched-bench, one sequence: decode-only ms per token. */
function batchedBenchMsPerToken() {
  const tokensPerSecond = runBatchedBench(peer.batchedBench, model, {
    sequences: [1],
    tokens: TOKENS,
    contextSize: 1024,
  })[1];
  return tokensPerSecond ? 1000 / tokensPerSecond : undefined;
}

/** `chat --prompt --json`: the decode tok/s its last JSON line reports, as ms per token. */
function chatPromptMsPerToken(seed) {
  const args = [...CLI_ARGV.slice(1), 'chat', '--model', model, '--threads', '1', '--ctx', '1024'];
  args.push('--max-tokens', String(TOKENS), '--temperature', String(BENCH_SAMPLING.temperature));
  args.push('--top-k', String(BENCH_SAMPLING.topK), '--top-p', String(BENCH_SAMPLING.topP));
  args.push('--seed', String(seed), '--json', '--prompt', peerPrompt(seed));
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: ROOT });
  const done = JSON.parse((result.stdout ?? '').trim().split('\n').pop() || '{}');
  if (result.status !== 0 || !done.tokensPerSecond) {
    throw new Error(`chat --prompt failed (${result.status}): ${(result.stderr ?? '').trim().slice(-300)}`);
  }
  return 1000 / done.tokensPerSecond;
}

const samples = {
  batched: [],
  peer: [],
  peerOwn: [],
  evaluate: [],
  evaluateDecode: [],
  chat: [],
  chatDecode: [],
  cli: [],
  serve: [],
};
const ours = await startOurs(model, 1);
const theirs = await startPeer(peer.server, model, 1);
try {
  // A warm-up answer each (first touch of the weights), not counted.
  await streamOne(ours, 0, { maxTokens: TOKENS });
  await streamOne(theirs, 0, { maxTokens: TOKENS });
  const steps = {
    batched: async () => samples.batched.push(batchedBenchMsPerToken()),
    peer: async (seed) => {
      const answer = await streamOne(theirs, seed, { maxTokens: TOKENS });
      samples.peer.push(answer.msPerToken);
      samples.peerOwn.push(answer.serverMsPerToken);
    },
    raw: async (seed) => {
      const result = await runInChild(RAW_SCRIPT, { modelPath: model, tokens: TOKENS, seed });
      samples.evaluate.push(result.evaluate.wallMs);
      samples.evaluateDecode.push(result.evaluate.decodeMs);
      samples.chat.push(result.chat.wallMs);
      samples.chatDecode.push(result.chat.decodeMs);
    },
    cli: async (seed) => samples.cli.push(chatPromptMsPerToken(seed)),
    serve: async (seed) =>
      samples.serve.push((await streamOne(ours, seed, { maxTokens: TOKENS })).msPerToken),
  };
  const names = Object.keys(steps);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) await steps[names[(round + k) % names.length]](round + 1);
    const last = (name) => samples[name].at(-1)?.toFixed(2) ?? 'n/a';
    console.log(
      `round ${round + 1}/${ROUNDS}: ms/token ` +
        ['batched', 'peer', 'evaluate', 'chat', 'cli', 'serve']
          .map((name) => `${name} ${last(name)}`)
          .join(' · '),
    );
  }
} finally {
  await ours.stop();
  await theirs.stop();
}

const ms = (values) => {
  const value = median(values.filter((v) => Number.isFinite(v)));
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
};
// Each round runs every path once, within seconds of each other; the ratio to llama-server is taken round by
// round and its median printed, since this machine's speed drifts by ±10–30 % from minute to minute.
const row = (label, wall, decode) => {
  const m = median(wall);
  const engine = decode ? median(decode) : undefined;
  const rest = engine !== undefined && m !== undefined ? (m - engine).toFixed(2) : '—';
  const perRound = median(wall.map((value, round) => samples.peer[round] / value));
  const ratio = label.startsWith('llama-batched-bench') || perRound === undefined ? '—' : perRound.toFixed(2);
  console.log(
    `${label.padEnd(34)} | ${ms(wall).padStart(8)} | ${(decode ? ms(decode) : '—').padStart(12)} | ${rest.padStart(8)} | ${ratio.padStart(19)}`,
  );
};
console.log(
  `\nnode-llama-cpp engine: ${await engineBinary()} · mid model · 1 thread · one answer of ${TOKENS} tokens at a time · ${ROUNDS} rounds (medians) · ` +
    `llama-server's own figure: ${ms(samples.peerOwn)} ms/token`,
);
console.log('path                               | ms/token | llama_decode | the rest | ÷ server, per round');
row('llama-batched-bench (decode only)', samples.batched);
row('llama-server (client-side)', samples.peer);
row('node-llama-cpp evaluate()', samples.evaluate, samples.evaluateDecode);
row('node-llama-cpp LlamaChatSession', samples.chat, samples.chatDecode);
row('atomr-infer chat --prompt --json', samples.cli);
row('atomr-infer serve (client-side)', samples.serve);
