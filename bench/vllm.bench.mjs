#!/usr/bin/env node
// The vLLM runner's own cost, measured against the test double of vLLM (test/fakes/vllm), so the engine's time is
// known exactly: bridge overhead per engine step at 1 and 8 concurrent requests (goal ≤ 0.3 ms, and exactly one
// bridge call per step whatever the concurrency), and time-to-first-token overhead over the double's step time.
// Runs the built runner: `npm run build` first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median } from './lib/measure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/runners/vllm/index.js');
if (!existsSync(entry)) {
  console.log('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
process.env.PYTHONPATH = [join(root, 'test/fakes/vllm'), process.env.PYTHONPATH]
  .filter(Boolean)
  .join(delimiter);
delete process.env.FAKE_VLLM_RECORD_FILE;
process.env.PYTHONDONTWRITEBYTECODE = '1';
const python =
  spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim() ||
  'python3';

const { createVllmRunner } = await import(entry);

const ANSWER_WORDS = 200;
const batch = (id, words = ANSWER_WORDS) => ({
  requestId: id,
  model: 'google/gemma-4-E2B-it',
  messages: [{ role: 'user', content: Array.from({ length: words }, (_, i) => `w${i}`).join(' ') }],
  sampling: {},
  stream: true,
});

async function drain(stream) {
  let text = '';
  for await (const chunk of stream) text += chunk.textDelta;
  return text;
}

const fmt = (ms) => `${ms.toFixed(3)} ms`;

/** Counts the messages pythonia itself writes to Python, to check our "one call per step" at the wire. */
function countPythoniaWrites() {
  const pythonia = createRequire(import.meta.url)('pythonia');
  const com = pythonia.com;
  let writes = 0;
  const original = com.writeRaw;
  com.writeRaw = function counted(...args) {
    writes++;
    return original.apply(this, args);
  };
  return () => writes;
}

async function newRunner() {
  return createVllmRunner({
    runtime: 'vllm',
    model: 'google/gemma-4-E2B-it',
    weights: { kind: 'huggingface', repo: 'google/gemma-4-E2B-it' },
    settings: { engineLogs: 'silent', python },
  });
}

async function overheadAt(concurrency, writes, stepDelayMs) {
  process.env.FAKE_VLLM_STEP_DELAY_MS = String(stepDelayMs);
  const runner = await newRunner();
  await drain(runner.execute(batch('warm', 20)));
  const expected = `Echo: ${batch('x').messages[0].content}`;
  const rounds = [];
  for (let round = 0; round < 5; round++) {
    const before = runner.stats();
    const beforeWrites = writes();
    const started = performance.now();
    const texts = await Promise.all(
      Array.from({ length: concurrency }, (_, i) => drain(runner.execute(batch(`r${round}-${i}`)))),
    );
    const wall = performance.now() - started;
    const after = runner.stats();
    if (texts.some((text) => text !== expected)) throw new Error('a request got the wrong text');
    const calls = after.calls - before.calls;
    const steps = after.engineSteps - before.engineSteps;
    rounds.push({
      calls,
      steps,
      wireWrites: writes() - beforeWrites,
      bridgePerCall: (after.callMs - before.callMs - (after.pyMs - before.pyMs)) / calls,
      pythonPerStep: (after.pyMs - before.pyMs) / steps,
      wallPerStep: wall / steps,
    });
  }
  await runner.dispose();
  delete process.env.FAKE_VLLM_STEP_DELAY_MS;
  const pick = (key) => median(rounds.map((r) => r[key]));
  return {
    concurrency,
    ...rounds[0],
    bridgePerCall: pick('bridgePerCall'),
    pythonPerStep: pick('pythonPerStep'),
    wallPerStep: pick('wallPerStep'),
  };
}

/** The floor: a driver call that does nothing (closing an unknown engine), straight through the bridge. */
async function bridgeFloor() {
  const { acquireBridge } = await import(join(root, 'dist/runners/vllm/python-bridge.js'));
  const lease = await acquireBridge({ python, logs: 'silent' });
  const samples = [];
  for (let round = 0; round < 5; round++) {
    const started = performance.now();
    for (let i = 0; i < 500; i++) await lease.call('close', 'none');
    samples.push((performance.now() - started) / 500);
  }
  await lease.release();
  return median(samples);
}

async function ttft(stepDelayMs, runs) {
  process.env.FAKE_VLLM_STEP_DELAY_MS = String(stepDelayMs);
  const runner = await newRunner();
  await drain(runner.execute(batch('warm', 2)));
  const samples = [];
  for (let i = 0; i < runs; i++) {
    // Submitted to an idle engine, it joins the very next step. Subtract what Python spent in that call (the
    // double's sleep, which overshoots on a busy machine) rather than the nominal step time.
    const before = runner.stats().pyMs;
    const started = performance.now();
    const iterator = runner.execute(batch(`t${i}`, 2))[Symbol.asyncIterator]();
    await iterator.next();
    samples.push(performance.now() - started - (runner.stats().pyMs - before));
    while (!(await iterator.next()).done);
  }
  await runner.dispose();
  delete process.env.FAKE_VLLM_STEP_DELAY_MS;
  return median(samples);
}

const coldStarted = performance.now();
const cold = await newRunner();
await drain(cold.execute(batch('cold', 1)));
const coldMs = performance.now() - coldStarted;
const writes = countPythoniaWrites();
await cold.dispose();

console.log(`python: ${python}`);
console.log(`bridge floor (one no-op driver call, median of 5×500): ${fmt(await bridgeFloor())}`);
console.log(`cold start (interpreter + driver + double engine + 1 answer): ${coldMs.toFixed(0)} ms`);
// A 0 ms step shows the bare cost; with a 2 ms step (still far faster than a GPU) Node's per-chunk work overlaps
// with the engine, as it does in real use.
for (const stepDelay of [0, 2]) {
  for (const concurrency of [1, 8]) {
    const r = await overheadAt(concurrency, writes, stepDelay);
    console.log(
      `step ${stepDelay} ms, concurrency ${r.concurrency}: ${r.steps} engine steps, ${r.calls} bridge calls` +
        ` (${r.wireWrites} pythonia writes) → ${(r.calls / r.steps).toFixed(2)} calls/step;` +
        ` bridge overhead ${fmt(r.bridgePerCall)}/step; python step work ${fmt(r.pythonPerStep)}`,
    );
  }
}
for (const stepDelay of [0, 20]) {
  const overhead = await ttft(stepDelay, 15);
  console.log(
    `TTFT overhead over the double's own step time (${stepDelay} ms step, median of 15): ${fmt(overhead)}`,
  );
}
