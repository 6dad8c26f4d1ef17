#!/usr/bin/env node
// `npm run bench -- serve`: continuous batching and the cost of `serve`, on a tiny generated GGUF (1 thread).
//
//   1. aggregate tok/s with 4 concurrent streams vs 1 stream, on the runner directly and through `serve`
//      (goal ≥ 2.0: the 4 streams decode together as one batch, not one after another)
//   2. `serve` streaming (HTTP + SSE) vs the runner called directly, same settings: tok/s ratio (goal ≥ 0.95)
//   3. 32 concurrent streaming clients against `serve --parallel 4` → errors (goal 0)
//
// `serve` runs as its own process (the built CLI, as a user runs it); the direct runner and the HTTP clients run
// here. Measurements alternate direct/serve in rounds and report medians of the per-round ratios, so load from
// other processes hits both sides alike. Needs dist/ (npm run build). Exits 1 only when a request failed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib/measure.mjs';
import { CTX_PER_SLOT, startOurs, streamOne } from './lib/peer-servers.mjs';
import { performance } from 'node:perf_hooks';
import { writeTinyGguf } from '../test/helpers/gguf/index.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist/runners/index.js'))) {
  console.log('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const { createRunner } = await import('../dist/runners/index.js');

const THREADS = 1;
const PARALLEL = 4;
const MAX_TOKENS = 512;
// The context per sequence that `serve` gets from startOurs, so the direct runner matches it.
const CONTEXT = CTX_PER_SLOT;
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), 'serve-bench-'));
const modelPath = await writeTinyGguf({ arch: 'gemma3', seed: 1, path: join(dir, 'tiny.gguf') });
const story = (i) => `Tell me story number ${i}.`;
const messages = (i) => [{ role: 'user', content: story(i) }];

// ---- the runner, called directly (same settings `serve --parallel 4 --threads 1 --ctx 1024` uses) ------------
const runner = await createRunner({
  runtime: 'llama-cpp',
  model: 'tiny',
  weights: { kind: 'local-path', path: modelPath },
  settings: { threads: THREADS, sequences: PARALLEL, contextSize: CONTEXT },
});

async function direct(i) {
  let tokens = 0;
  const batch = {
    requestId: `d${i}`,
    model: 'tiny',
    messages: messages(i),
    sampling: { maxTokens: MAX_TOKENS, seed: i },
    stream: true,
  };
  for await (const chunk of runner.execute(batch)) if (chunk.usage) tokens = chunk.usage.output;
  return tokens;
}

// ---- serve, as its own process, logging every request as by default ----------------------------------------------
const serve = await startOurs(modelPath, PARALLEL, { logLevel: 'info' });

/** One streaming request; resolves to the completion tokens its usage chunk reports. */
async function viaServe(i) {
  return (await streamOne(serve, i, { maxTokens: MAX_TOKENS, prompt: story(i) })).tokens;
}

/** CPU milliseconds a process has used (user + system), from /proc: 0 where there is no /proc. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * `streams` answers at once: aggregate tok/s (all tokens over the wall time) and the CPU the decoding process
 * spent per 1,000 tokens (this process for the direct runner, the serve process for HTTP). CPU time is what a
 * shared machine cannot disturb much, so it shows serve's own overhead even when wall-clock figures are noisy.
 */
async function aggregate(streams, one, pid) {
  const cpu = cpuMs(pid);
  const start = performance.now();
  const counts = await Promise.all(Array.from({ length: streams }, (_, i) => one(i + 1)));
  const tokens = counts.reduce((a, b) => a + b, 0);
  return {
    tps: tokens / ((performance.now() - start) / 1000),
    cpuPerK: ((cpuMs(pid) - cpu) * 1000) / tokens,
  };
}

try {
  await direct(0);
  await viaServe(0);
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const d1 = await aggregate(1, direct, process.pid);
    const s1 = await aggregate(1, viaServe, serve.pid);
    const d4 = await aggregate(PARALLEL, direct, process.pid);
    const s4 = await aggregate(PARALLEL, viaServe, serve.pid);
    rows.push({ d1, s1, d4, s4 });
  }
  const pick = (f) => median(rows.map(f));

  let errors = 0;
  let firstError;
  const start32 = performance.now();
  const counts = await Promise.all(
    Array.from({ length: 32 }, (_, i) =>
      viaServe(100 + i).catch((error) => {
        errors++;
        firstError ??= error;
        return 0;
      }),
    ),
  );
  const seconds32 = (performance.now() - start32) / 1000;
  const complete = counts.filter((n) => n === MAX_TOKENS).length;

  const f = (n) => n.toFixed(0).padStart(5);
  const r = (n) => n.toFixed(2);
  const n = PARALLEL;
  console.log(
    `tiny GGUF · ${THREADS} thread · ${n} sequences · ${MAX_TOKENS} tokens per answer · medians of ${ROUNDS} rounds`,
  );
  console.log(
    `runner direct  1 stream ${f(pick((x) => x.d1.tps))} tok/s  ${n} streams ${f(pick((x) => x.d4.tps))} tok/s  ×${r(pick((x) => x.d4.tps / x.d1.tps))} (goal ≥ 2.0)`,
  );
  console.log(
    `through serve  1 stream ${f(pick((x) => x.s1.tps))} tok/s  ${n} streams ${f(pick((x) => x.s4.tps))} tok/s  ×${r(pick((x) => x.s4.tps / x.s1.tps))} (goal ≥ 2.0)`,
  );
  console.log(
    `serve / direct tok/s: 1 stream ${r(pick((x) => x.s1.tps / x.d1.tps))}  ${n} streams ${r(pick((x) => x.s4.tps / x.d4.tps))} (goal ≥ 0.95)`,
  );
  if (pick((x) => x.d1.cpuPerK) > 0) {
    console.log(
      `CPU ms per 1k tokens, direct vs serve process: 1 stream ${f(pick((x) => x.d1.cpuPerK))} vs ${f(pick((x) => x.s1.cpuPerK))}  ${n} streams ${f(pick((x) => x.d4.cpuPerK))} vs ${f(pick((x) => x.s4.cpuPerK))}`,
    );
  }
  console.log(
    `32 concurrent clients: ${errors} errors, ${complete}/32 complete answers, ${f((MAX_TOKENS * complete) / seconds32)} tok/s aggregate (goal 0 errors)`,
  );
  if (firstError) console.log(`first error: ${firstError.message}`);
  process.exitCode = errors > 0 ? 1 : 0;
} finally {
  await serve.stop();
  await runner.dispose();
  rmSync(dir, { recursive: true, force: true });
}
