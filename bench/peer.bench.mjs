#!/usr/bin/env node
/* global fetch, Buffer */
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
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensurePeerBuild } from './lib/llama-peer-build.mjs';
import { argument, CLI_ARGV, median, ROOT } from './lib/measure.mjs';
import { cachedBenchModel, MODEL_SHAPES } from './lib/model-shapes.mjs';

const ROUNDS = argument('--rounds', 5);
const TOKENS = argument('--tokens', 300);
const listArg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1].split(',') : fallback;
};
const MODELS = listArg('--models', ['small', 'mid']);
const STREAMS = listArg('--streams', ['1', '4', '8']).map(Number);
const CTX_PER_SLOT = 1024;
const PROMPT = (i) => `Tell me story number ${i} about the sea.`;

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const peer = ensurePeerBuild();
if (peer.skipped) {
  console.log(`peer benchmark skipped: ${peer.skipped}`);
  process.exit(0);
}

// ---- models: generated once, cached beside the peer build (the ~220 MB one takes ~1.5 min to write) ----------
function modelFile(name) {
  return cachedBenchModel(join(peer.dir, 'models', `${name}.gguf`), name, {
    arch: 'gemma3',
    seed: 1,
    contextLength: 8192,
    ...MODEL_SHAPES[name],
  });
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts a server process and resolves once `/health` answers 200. */
async function startServer(name, command, args, port, model) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (data) => {
    log = (log + data).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${log}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { name, base, model: basename(model), stop: () => stopProcess(child) };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not become healthy: ${log}`);
}

function stopProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

async function startOurs(model, slots) {
  const port = await freePort();
  const args = [...CLI_ARGV.slice(1), 'serve', '--model', model, '--threads', '1'];
  args.push('--parallel', String(slots), '--ctx', String(CTX_PER_SLOT), '--port', String(port));
  args.push('--queue', '100', '--log-level', 'warn', '--log-format', 'json');
  return startServer('atomr-infer', process.execPath, args, port, model);
}

async function startPeer(model, slots) {
  const port = await freePort();
  // -c is the whole KV cache in llama-server: slots × the per-slot context ours gets from --ctx.
  const args = ['-m', model, '-t', '1', '-tb', '1', '-np', String(slots), '-c', String(slots * CTX_PER_SLOT)];
  args.push('--port', String(port), '--host', '127.0.0.1', '--no-webui', '--log-disable');
  return startServer('llama-server', peer.server, args, port, model);
}

/**
 * One streamed chat answer: TTFT (ms) and the completion tokens its usage chunk reports. Read with node:http and
 * Buffer search rather than fetch's web streams: the client shares the two cores with the server it measures.
 */
function streamOne(server, i, maxTokens = TOKENS) {
  const body = JSON.stringify({
    model: server.model,
    messages: [{ role: 'user', content: PROMPT(i) }],
    max_tokens: maxTokens,
    temperature: 1,
    top_k: 64,
    top_p: 0.95,
    seed: i,
    stream: true,
    stream_options: { include_usage: true },
  });
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${server.base}/v1/chat/completions`,
      // A fresh connection per request: a kept-alive socket the server has since closed would fail the round.
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
      (response) => {
        const chunks = [];
        let ttft;
        response.on('data', (chunk) => {
          if (ttft === undefined && /"content":"[^"]/.test(chunk.toString('latin1'))) {
            ttft = performance.now() - start;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) {
            reject(new Error(`${server.name}: HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
            return;
          }
          const usage = /"completion_tokens":(\d+)/.exec(text.slice(text.lastIndexOf('"usage"')));
          if (!usage) reject(new Error(`${server.name}: no usage chunk`));
          else resolve({ ttft: ttft ?? performance.now() - start, tokens: Number(usage[1]) });
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function round(server, streams, offset) {
  const start = performance.now();
  const results = await Promise.all(Array.from({ length: streams }, (_, i) => streamOne(server, offset + i)));
  const seconds = (performance.now() - start) / 1000;
  const tokens = results.reduce((sum, r) => sum + r.tokens, 0);
  return { tps: tokens / seconds, ttfts: results.map((r) => r.ttft) };
}

// A figure a failed stream count never produced (median of nothing) prints as n/a.
const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function batchedBench(model) {
  const npl = STREAMS.join(',');
  const args = ['-m', model, '-c', String(Math.max(...STREAMS) * CTX_PER_SLOT), '-b', '2048', '-ub', '512'];
  args.push('-npp', '32', '-ntg', String(Math.min(TOKENS, 200)), '-npl', npl, '-t', '1');
  const result = spawnSync(peer.batchedBench, args, { encoding: 'utf8' });
  const rows = (result.stdout ?? '')
    .split('\n')
    .filter((line) => /^\|\s+\d+/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  // Columns: PP, TG, B, N_KV, T_PP, S_PP, T_TG, S_TG, T, S.
  return Object.fromEntries(rows.map((cells) => [Number(cells[3]), Number(cells[8])]));
}

// Which node-llama-cpp binary `serve` will load: its portable prebuilt one, or a local build made with
// `npx --no node-llama-cpp source download --gpu false` (native to this CPU, as the peer build is).
const engineBinary = await (async () => {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', gpu: false });
  const kind =
    llama.buildType === 'localBuild' ? 'a local build (native to this CPU)' : 'the prebuilt binary';
  await llama.dispose();
  return kind;
})();
console.log(`serve's node-llama-cpp engine: ${engineBinary}`);
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
        const result = await streamOne(
          server,
          9000 + client * 100 + k,
          Math.round(TOKENS * (0.3 + ((client + k) % clients) * 0.35)),
        );
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
    const results = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => streamOne(ours, 5000 + i)));
    errors = results.filter((r) => r.status === 'rejected').length;
  } finally {
    await ours.stop();
  }
  console.log(`\n32 concurrent clients, serve --parallel 8 (small model): ${errors} errors (goal 0)`);
  if (errors > 0) failures++;
}
process.exitCode = failures > 0 ? 1 : 0;
