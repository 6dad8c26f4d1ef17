#!/usr/bin/env node
// `npm run bench -- llamacpp`: the llama.cpp runner against node-llama-cpp used directly, on the same tiny
// generated GGUF (gemma4, seed 1), same threads (1), seed and sampling, ≥ 1,000 generated tokens.
//
// Reports (medians over ROUNDS interleaved runs, each in its own process — the machine is shared):
//   - decode tok/s through the runner vs a raw LlamaChatSession script (goal ≥ 0.97),
//   - time to first token and its overhead vs raw, peak RSS vs raw,
//   - the runner's default thread count vs the best fixed count among 1–4 (goal ≥ 0.8).
//
//   node bench/llamacpp.bench.mjs [--tokens N] [--rounds R] [--thread-seconds S]
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { median, ROOT, runInChild, writeBenchModel, argument } from './lib/measure.mjs';
import { RAW_LLAMA_SCRIPT } from './lib/raw-llama.mjs';
import { RUNNER_LLAMA_SCRIPT } from './lib/runner-llama.mjs';

const TOKENS = argument('--tokens', 1200);
const ROUNDS = argument('--rounds', 3);
const THREAD_SECONDS = argument('--thread-seconds', 6);
const THREADS = 1;

if (!existsSync(join(ROOT, 'dist', 'runners', 'llamacpp', 'runner.js'))) {
  console.log('dist/ has no llama.cpp runner: building it (npx tsc -p tsconfig.build.json)…');
  spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

const modelPath = await writeBenchModel({ arch: 'gemma4', seed: 1 });
const fmt = (value, digits = 0) => (value === undefined ? 'n/a' : value.toFixed(digits));

try {
  // ---- runner vs raw, interleaved ----
  const raw = [];
  const runner = [];
  for (let round = 0; round < ROUNDS; round++) {
    raw.push(runInChild(RAW_LLAMA_SCRIPT, { modelPath, threads: THREADS, maxTokens: TOKENS }));
    runner.push(runInChild(RUNNER_LLAMA_SCRIPT, { modelPath, threads: THREADS, maxTokens: TOKENS }));
  }
  const summary = (runs) => ({
    tokens: median(runs.map((r) => r.tokens)),
    tokensPerSecond: median(runs.map((r) => r.tokensPerSecond)),
    ttftMs: median(runs.map((r) => r.ttftMs)),
    peakRssMiB: median(runs.map((r) => r.peakRssMiB)),
    loadMs: median(runs.map((r) => r.loadMs)),
  });
  const r = summary(raw);
  const m = summary(runner);
  const sameText = raw.every((run, i) => run.text === runner[i]?.text);
  console.log(
    `model: ${modelPath} (tiny gemma4), threads ${THREADS}, ${TOKENS} tokens, ${ROUNDS} rounds (medians)`,
  );
  console.log('                      raw LlamaChatSession    atomr runner');
  console.log(`decode tok/s          ${fmt(r.tokensPerSecond).padEnd(24)}${fmt(m.tokensPerSecond)}`);
  console.log(`time to first token   ${`${fmt(r.ttftMs, 1)} ms`.padEnd(24)}${fmt(m.ttftMs, 1)} ms`);
  console.log(`load (import→ready)   ${`${fmt(r.loadMs)} ms`.padEnd(24)}${fmt(m.loadMs)} ms`);
  console.log(`peak RSS              ${`${fmt(r.peakRssMiB, 1)} MiB`.padEnd(24)}${fmt(m.peakRssMiB, 1)} MiB`);
  console.log(`tokens generated      ${fmt(r.tokens).padEnd(24)}${fmt(m.tokens)}`);
  console.log(
    `→ decode ratio runner/raw: ${fmt(m.tokensPerSecond / r.tokensPerSecond, 3)} (goal ≥ 0.97); ` +
      `TTFT overhead: ${fmt(m.ttftMs - r.ttftMs, 1)} ms; RSS overhead: ${fmt(m.peakRssMiB - r.peakRssMiB, 1)} MiB; ` +
      `same text as raw: ${sameText ? 'yes' : 'NO'}`,
  );
  console.log(`  per round raw tok/s: ${raw.map((x) => fmt(x.tokensPerSecond)).join(', ')}`);
  console.log(`  per round runner tok/s: ${runner.map((x) => fmt(x.tokensPerSecond)).join(', ')}`);

  // ---- default threads vs fixed counts (each run bounded by a deadline: bad counts decode at ~3 tok/s) ----
  const deadlineMs = THREAD_SECONDS * 1000;
  const byThreads = new Map();
  for (const threads of [null, 1, 2, 3, 4]) {
    const run = runInChild(RUNNER_LLAMA_SCRIPT, { modelPath, threads, maxTokens: TOKENS, deadlineMs });
    byThreads.set(threads, run);
    console.log(
      `threads ${threads === null ? `default (${run.device})` : threads}: ${fmt(run.tokensPerSecond)} tok/s ` +
        `(${run.tokens} tokens${run.finishReason === 'abort' ? `, stopped at the ${THREAD_SECONDS} s deadline` : ''})`,
    );
  }
  const fixed = [1, 2, 3, 4].map((t) => [t, byThreads.get(t)?.tokensPerSecond ?? 0]);
  const [bestThreads, bestRate] = fixed.reduce((best, next) => (next[1] > best[1] ? next : best));
  const defaultRate = byThreads.get(null)?.tokensPerSecond ?? 0;
  console.log(
    `→ default/best fixed (${bestThreads} threads): ${fmt(defaultRate / bestRate, 3)} (goal ≥ 0.8)`,
  );
} finally {
  rmSync(dirname(modelPath), { recursive: true, force: true });
}
