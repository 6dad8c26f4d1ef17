#!/usr/bin/env node
// An experiment for issue 13, not part of `npm run bench`: what a leaner per-token loop over node-llama-cpp's
// native context would bring for one stream, measured against llama-server (docs/serve.md, "What bounds one
// stream"). It drives node-llama-cpp internals (`context._ctx`, its internal `LlamaSampler`) on purpose: the
// question is what the engine allows below node-llama-cpp's JavaScript, which no public API exposes.
//
// On the peer benchmark's ~220 MB model, 1 thread, one answer at a time, rounds in rotating order:
//   llama-server   llama.cpp's own server (client-side time per token)
//   evaluate       node-llama-cpp's LlamaContextSequence.evaluate(), as shipped
//   two-task       a minimal loop over the same native calls: decode on the thread pool, then sample there
//   two-task+turn  the same, waiting for the next event-loop turn before each decode, as node-llama-cpp does
//   one-task       decode and sample in one thread-pool task: needs node-llama-cpp's addon built with
//                  node-llama-cpp-fused-decode-sample.patch (beside this file); skipped otherwise:
//                    patch -p1 -d node_modules/node-llama-cpp < bench/experiments/node-llama-cpp-fused-decode-sample.patch
//                    npx --no node-llama-cpp source download --gpu false   # or `source build` once downloaded
//
//   node bench/experiments/fused-decode-sample.mjs [--rounds R] [--tokens N]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { ensurePeerBuild } from '../lib/llama-peer-build.mjs';
import { argument, BENCH_SAMPLING, median } from '../lib/measure.mjs';
import { peerBenchModel } from '../lib/model-shapes.mjs';
import { engineBinary, peerPrompt, startPeer, streamOne } from '../lib/peer-servers.mjs';

const ROUNDS = argument('--rounds', 9);
const TOKENS = argument('--tokens', 300);

const peerBuild = ensurePeerBuild();
if (peerBuild.skipped) {
  console.log(`experiment skipped: ${peerBuild.skipped}`);
  process.exit(0);
}
const modelPath = await peerBenchModel(peerBuild.dir, 'mid');

const { getLlama } = await import('node-llama-cpp');
// LlamaSampler is internal to node-llama-cpp: loaded from its dist folder, next to the public entry point.
const entry = createRequire(import.meta.url).resolve('node-llama-cpp');
const samplerModule = join(dirname(entry), 'evaluator', 'LlamaContext', 'LlamaSampler.js');
const { LlamaSampler } = await import(pathToFileURL(samplerModule).href);

const llama = await getLlama({ build: 'never', gpu: false, logLevel: 'error' });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 1024, threads: 1 });
const sequence = context.getSequence();
const native = context._ctx;
const sequenceId = sequence._sequenceId;
const oneTaskBuilt = typeof native.decodeBatchAndSampleToken === 'function';
const prompt = (seed) => model.tokenize(peerPrompt(seed));

async function forget() {
  await sequence.clearHistory();
  native.disposeSequence(sequenceId);
}

async function viaEvaluate(seed) {
  await forget();
  let generated = 0;
  let first;
  let last;
  for await (const _token of sequence.evaluate(prompt(seed), { ...BENCH_SAMPLING, seed })) {
    last = performance.now();
    first ??= last;
    if (++generated >= TOKENS) break;
  }
  return (last - first) / (TOKENS - 1);
}

/**
 * The least JavaScript a token can cost: one batch of one token, then one or two thread-pool tasks. With
 * `nextTurn`, each decode waits for the next event-loop turn first, as node-llama-cpp's batch dispatcher does.
 */
async function minimalLoop(seed, oneTask, nextTurn = false) {
  await forget();
  const sampler = new LlamaSampler(model);
  sampler.applyConfig(sequence._resolveSamplerConfig({ ...BENCH_SAMPLING, seed }));
  const input = prompt(seed);
  native.initBatch(input.length);
  let [logitIndex] = native.addToBatch(
    sequenceId,
    0,
    Uint32Array.from(input),
    Uint32Array.of(input.length - 1),
  );
  await native.decodeBatch();
  let token = await native.sampleToken(logitIndex, sampler._sampler);
  let position = input.length;
  const first = performance.now();
  for (let n = 1; n < TOKENS; n++) {
    if (nextTurn) await new Promise((resolve) => setImmediate(resolve));
    native.initBatch(1);
    [logitIndex] = native.addToBatch(sequenceId, position++, Uint32Array.of(token), Uint32Array.of(0));
    if (oneTask) token = await native.decodeBatchAndSampleToken(logitIndex, sampler._sampler);
    else {
      await native.decodeBatch();
      token = await native.sampleToken(logitIndex, sampler._sampler);
    }
  }
  const perToken = (performance.now() - first) / (TOKENS - 1);
  sampler.dispose();
  await forget();
  return perToken;
}

const peer = await startPeer(peerBuild.server, modelPath, 1);
const paths = {
  'llama-server': async (seed) => (await streamOne(peer, seed, { maxTokens: TOKENS })).msPerToken,
  evaluate: viaEvaluate,
  'two-task': (seed) => minimalLoop(seed, false),
  'two-task+turn': (seed) => minimalLoop(seed, false, true),
  ...(oneTaskBuilt ? { 'one-task': (seed) => minimalLoop(seed, true) } : {}),
};
const names = Object.keys(paths);
const samples = Object.fromEntries(names.map((name) => [name, []]));
try {
  await streamOne(peer, 0, { maxTokens: TOKENS }); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      samples[name].push(await paths[name](round + 1));
    }
    console.log(
      `round ${round + 1}: ` + names.map((n) => `${n} ${samples[n].at(-1).toFixed(2)}`).join(' · '),
    );
  }
} finally {
  await peer.stop();
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

const perRound = (a, b) => median(samples[a].map((value, round) => samples[b][round] / value));
console.log(
  `\nnode-llama-cpp engine: ${await engineBinary()} · mid model · 1 thread · ${TOKENS} tokens · ${ROUNDS} rounds`,
);
if (!oneTaskBuilt)
  console.log('one-task: skipped (the addon is not built with the patch beside this script)');
console.log('path           | ms/token (median) | ÷ llama-server tok/s, per round');
for (const name of names) {
  const ratio = perRound(name, 'llama-server').toFixed(3);
  console.log(
    `${name.padEnd(14)} | ${median(samples[name]).toFixed(2).padStart(17)} | ${ratio.padStart(10)}`,
  );
}
console.log(`two-task ÷ evaluate, per round: ${perRound('two-task', 'evaluate').toFixed(3)}`);
console.log(`two-task+turn ÷ evaluate, per round: ${perRound('two-task+turn', 'evaluate').toFixed(3)}`);
if (oneTaskBuilt)
  console.log(`one-task ÷ two-task, per round: ${perRound('one-task', 'two-task').toFixed(3)}`);
