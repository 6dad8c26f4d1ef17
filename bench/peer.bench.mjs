#!/usr/bin/env node
// `npm run bench -- peer`: `atomr-infer serve` against llama.cpp's own `llama-server`, built from the llama.cpp
// commit node-llama-cpp bundles (bench/lib/llama-peer-build.mjs; built once into a cache folder, ~20 min on 2
// cores), plus `llama-batched-bench` for the engine's own ceiling.
//
// Same generated GGUFs (a small one and a ~220 MB one, cached beside the build), 1 thread, as many slots as
// streams, the same prompt, sampling and token count. At 1, 4 and 8 concurrent streams, the two servers take turns
// round by round; each round reports aggregate tok/s (all tokens over the round's wall time) and every request's
// time to first token. Prints medians of the rounds, TTFT p50/max over all of them, and the ratios ours ÷ peer:
// of the medians, and the median of each round's own ratio.
// Finally 32 concurrent clients against `serve --parallel 8`: errors (goal 0).
//
//   node bench/peer.bench.mjs [--rounds R] [--tokens N] [--models small,mid] [--streams 1,4,8]
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensurePeerBuild, runBatchedBench } from './lib/llama-peer-build.mjs';
import { argument, median, ROOT } from './lib/measure.mjs';
import { peerBenchModel } from './lib/model-shapes.mjs';
import {
  CTX_PER_SLOT,
  engineBinary,
  startOurs,
  startPeer as startPeerServer,
  streamOne,
} from './lib/peer-servers.mjs';

const ROUNDS = argument('--rounds', 5);
const TOKENS = argument('--tokens', 300);
const listArg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1].split(',') : fallback;
};
const MODELS = listArg('--models', ['small', 'mid']);
const STREAMS = listArg('--streams', ['1', '4', '8']).map(Number);

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const peer = ensurePeerBuild();
if (peer.skipped) {
  console.log(`peer benchmark skipped: ${peer.skipped}`);
  process.exit(0);
}
const startPeer = (model, slots) => startPeerServer(peer.server, model, slots);

// Models: generated once, cached beside the peer build (the ~220 MB one takes ~1.5 min to write).
const modelFile = (name) => peerBenchModel(peer.dir, name);

async function round(server, streams, offset) {
  const start = performance.now();
  const results = await Promise.all(
    Array.from({ length: streams }, (_, i) => streamOne(server, offset + i, { maxTokens: TOKENS })),
  );
  const seconds = (performance.now() - start) / 1000;
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  return { tps: tokens / seconds, ttfts: results.map((r) => r.ttft) };
}

// A figure a failed stream count never produced (median of nothing) prints as n/a.
const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

const batchedBench = (model) =>
  runBatchedBench(peer.batchedBench, model, {
    sequences: STREAMS,
    tokens: Math.min(TOKENS, 200),
    contextSize: Math.max(...STREAMS) * CTX_PER_SLOT,
  });

console.log(`serve's node-llama-cpp engine: ${await engineBinary()}`);
console.log(
  `peer: llama.cpp ${peer.commit.slice(0, 12)} (node-llama-cpp's bundle) · 1 thread · ${TOKENS} tokens · ` +
    `${ROUNDS} rounds, servers alternating · slots = streams · ctx ${CTX_PER_SLOT} per slot`,
);
let failures = 0;
for (const name of MODELS) {
  const model = await modelFile(name);
  const mb = statSync(model).size / 1e6;
  const ceiling = batchedBench(model);
  console.log(
    `\n${name} model (${fixed(mb, 0)} MB) · llama-batched-bench decode ceiling: ` +
      STREAMS.map((s) => `${s}: ${ceiling[s] ?? '?'} tok/s`).join(', '),
  );
  console.log(
    'streams | server       | tok/s (median) | TTFT p50 ms | TTFT max ms | ours ÷ peer tok/s | per round | TTFT max ratio',
  );
  for (const streams of STREAMS) {
    const ours = await startOurs(model, streams);
    const theirs = await startPeer(model, streams);
    const runs = { [ours.name]: { tps: [], ttfts: [] }, [theirs.name]: { tps: [], ttfts: [] } };
    try {
      // One warm-up round each (first-touch of the weights, the servers' lazy setup), not counted.
      await round(ours, streams, 1000);
      await round(theirs, streams, 1000);
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? [ours, theirs] : [theirs, ours];
        for (const server of order) {
          const result = await round(server, streams, r * streams);
          runs[server.name].tps.push(result.tps);
          runs[server.name].ttfts.push(...result.ttfts);
        }
      }
    } catch (error) {
      failures++;
      console.log(`${streams} streams: ${error.message}`);
    } finally {
      await ours.stop();
      await theirs.stop();
    }
    const summary = (run) => ({
      tps: median(run.tps),
      p50: median(run.ttfts),
      max: Math.max(...run.ttfts),
    });
    const a = summary(runs['atomr-infer']);
    const b = summary(runs['llama-server']);
    // The two servers run back to back within a round, so a round's ratio cancels most of the machine's drift
    // (runs of 3–5 rounds moved the ratio of medians by ±0.07–0.15 here).
    const perRound = median(runs['atomr-infer'].tps.map((tps, i) => tps / runs['llama-server'].tps[i]));
    console.log(
      `${String(streams).padStart(7)} | atomr-infer  | ${fixed(a.tps).padStart(14)} | ${fixed(a.p50, 0).padStart(11)} | ${fixed(a.max, 0).padStart(11)} | ${fixed(a.tps / b.tps, 2).padStart(17)} | ${fixed(perRound, 2).padStart(9)} | ${fixed(a.max / b.max, 2)}`,
    );
    console.log(
      `${''.padStart(7)} | llama-server | ${fixed(b.tps).padStart(14)} | ${fixed(b.p50, 0).padStart(11)} | ${fixed(b.max, 0).padStart(11)} |`,
    );
  }
}

// ---- rolling load: clients that send their next request as soon as an answer ends --------------------------
// Answers of different lengths end at different times, so new requests keep arriving while others decode: the
// case where a request must not wait behind the answers already running (the first token of each one is timed).
async function closedLoop(server, clients, each) {
  const ttfts = [];
  let tokens = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let k = 0; k < each; k++) {
        const result = await streamOne(server, 9000 + client * 100 + k, {
          maxTokens: Math.round(TOKENS * (0.3 + ((client + k) % clients) * 0.35)),
        });
        ttfts.push(result.ttft);
        tokens += result.tokens;
      }
    }),
  );
  return { tps: tokens / ((performance.now() - start) / 1000), p50: median(ttfts), max: Math.max(...ttfts) };
}
for (const name of MODELS.filter((m) => m === 'mid').concat(MODELS.includes('mid') ? [] : [MODELS[0]])) {
  const model = await modelFile(name);
  const CLIENTS = 4;
  const ours = await startOurs(model, CLIENTS);
  const theirs = await startPeer(model, CLIENTS);
  try {
    const a = await closedLoop(ours, CLIENTS, 3);
    const b = await closedLoop(theirs, CLIENTS, 3);
    console.log(
      `\nrolling load, ${name} model: ${CLIENTS} clients × 3 requests each, back to back, ${CLIENTS} slots`,
    );
    console.log(
      `  atomr-infer : ${fixed(a.tps)} tok/s · TTFT p50 ${fixed(a.p50, 0)} ms · max ${fixed(a.max, 0)} ms`,
    );
    console.log(
      `  llama-server: ${fixed(b.tps)} tok/s · TTFT p50 ${fixed(b.p50, 0)} ms · max ${fixed(b.max, 0)} ms`,
    );
    console.log(`  ours ÷ peer: tok/s ${fixed(a.tps / b.tps, 2)} · TTFT max ${fixed(a.max / b.max, 2)}`);
  } finally {
    await ours.stop();
    await theirs.stop();
  }
}

// ---- 32 concurrent clients against 8 slots: every one must get its answer ------------------------------------
{
  const model = await modelFile('small');
  const ours = await startOurs(model, 8);
  let errors = 0;
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, (_, i) => streamOne(ours, 5000 + i, { maxTokens: TOKENS })),
    );
    errors = results.filter((r) => r.status === 'rejected').length;
  } finally {
    await ours.stop();
  }
  console.log(`\n32 concurrent clients, serve --parallel 8 (small model): ${errors} errors (goal 0)`);
  if (errors > 0) failures++;
}
process.exitCode = failures > 0 ? 1 : 0;
