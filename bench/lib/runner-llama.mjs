// The same measurement through atomr-infer's llama.cpp runner (the built dist/, as the CLI uses it).
//   node bench/lib/runner-llama.mjs '{"modelPath":"…","threads":1,"maxTokens":1200}'
//   ("threads": null ⇒ the runner's default thread count; "deadlineMs" stops early and still reports tok/s;
//    "responseFormat": decode under that format's grammar)
/* global AbortController */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';
import { BENCH_PROMPT, BENCH_SAMPLING, createMeter, isMain, peakRssMiB, ROOT } from './measure.mjs';

export const RUNNER_LLAMA_SCRIPT = new URL(import.meta.url).pathname;

export async function measureRunner(options) {
  const { modelPath, threads = 1, maxTokens = 1200, contextSize = 4096, deadlineMs } = options;
  const loadStart = performance.now();
  const { createRunner } = await import(pathToFileURL(join(ROOT, 'dist', 'runners', 'index.js')).href);
  const runner = await createRunner({
    runtime: 'llama-cpp',
    model: 'bench-tiny',
    weights: { kind: 'local-path', path: modelPath },
    settings: { contextSize, gpu: false, ...(threads === null ? {} : { threads }) },
  });
  const loadMs = performance.now() - loadStart;
  const controller = new AbortController();
  const timer = deadlineMs ? setTimeout(() => controller.abort(), deadlineMs) : undefined;
  const meter = createMeter();
  let text = '';
  let final;
  const stream = runner.execute(
    {
      requestId: 'bench',
      model: 'bench-tiny',
      messages: [{ role: 'user', content: options.prompt ?? BENCH_PROMPT }],
      sampling: { ...BENCH_SAMPLING, ...options.sampling, maxTokens },
      stream: true,
      ...(options.responseFormat ? { responseFormat: options.responseFormat } : {}),
    },
    { signal: controller.signal },
  );
  for await (const chunk of stream) {
    if (chunk.textDelta) {
      text += chunk.textDelta;
      meter.tick();
    }
    if (chunk.finishReason) final = chunk;
  }
  clearTimeout(timer);
  const result = {
    ...meter.result(final?.usage?.output ?? 0),
    loadMs,
    peakRssMiB: peakRssMiB(),
    finishReason: final?.finishReason,
    device: runner.describe().device,
    textLength: text.length,
    text,
  };
  await runner.dispose();
  return result;
}

if (isMain(import.meta.url)) {
  const result = await measureRunner(JSON.parse(process.argv[2] ?? '{}'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
