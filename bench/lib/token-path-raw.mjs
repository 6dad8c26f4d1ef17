// One child process of `bench/token-path.bench.mjs`: node-llama-cpp driven directly, one sequence, 1 thread.
// Generates `tokens` tokens twice, with `LlamaContextSequence.evaluate()` (the engine's own loop, no chat layer) and
// with `LlamaChatSession` (what the runner drives), and for each prints the wall time per token next to the time
// llama.cpp itself spent in `llama_decode` per token (`performanceTracking` + `printTimings`, public API).
//
//   node bench/lib/token-path-raw.mjs '{"modelPath":"…","tokens":300,"seed":1}'
import { performance } from 'node:perf_hooks';
import { BENCH_SAMPLING, isMain } from './measure.mjs';
import { peerPrompt } from './peer-servers.mjs';

/** llama.cpp's "eval time = X ms / N runs" line (single-token decodes), as ms per decode. */
function decodeMsFrom(lines) {
  const line = lines.find((text) => /\beval time =/.test(text) && !/prompt eval/.test(text));
  const match = line && /eval time =\s*([\d.]+) ms \/\s*(\d+) runs/.exec(line);
  return match ? Number(match[1]) / Number(match[2]) : undefined;
}

export async function measureTokenPath({ modelPath, tokens = 300, seed = 1 }) {
  const { getLlama, LlamaLogLevel, LlamaChatSession, GemmaChatWrapper } = await import('node-llama-cpp');
  let perfLines = [];
  const llama = await getLlama({
    build: 'never',
    gpu: false,
    logLevel: LlamaLogLevel.info,
    // Only llama.cpp's own timing report is kept; the rest of its info-level log is dropped.
    logger: (_level, message) => {
      if (message.includes('llama_perf_context_print')) perfLines.push(message);
    },
  });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: 1024, threads: 1, performanceTracking: true });
  const sequence = context.getSequence();

  async function timed(generate) {
    await sequence.clearHistory();
    await context.printTimings(); // resets llama.cpp's counters
    perfLines = [];
    let first;
    let last;
    let count = 0;
    await generate(() => {
      last = performance.now();
      first ??= last;
      count++;
    });
    await context.printTimings();
    return { wallMs: (last - first) / (count - 1), decodeMs: decodeMsFrom(perfLines), tokens: count };
  }

  const evaluate = () =>
    timed(async (tick) => {
      let generated = 0;
      for await (const _token of sequence.evaluate(model.tokenize(peerPrompt(seed)), {
        ...BENCH_SAMPLING,
        seed,
      })) {
        tick();
        if (++generated >= tokens) break;
      }
    });
  const chat = () =>
    timed(async (tick) => {
      const session = new LlamaChatSession({
        contextSequence: sequence,
        chatWrapper: new GemmaChatWrapper(),
        autoDisposeSequence: false,
      });
      session.setChatHistory([]);
      await session.prompt(peerPrompt(seed), {
        ...BENCH_SAMPLING,
        seed,
        maxTokens: tokens,
        repeatPenalty: false,
        onToken: (chunk) => {
          for (let i = 0; i < chunk.length; i++) tick();
        },
      });
      session.dispose({ disposeSequence: false });
    });

  // Alternate which goes first, so neither always runs on a warmer cache.
  const results = {};
  for (const name of seed % 2 === 0 ? ['evaluate', 'chat'] : ['chat', 'evaluate']) {
    results[name] = await (name === 'evaluate' ? evaluate() : chat());
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return results;
}

if (isMain(import.meta.url)) {
  const result = await measureTokenPath(JSON.parse(process.argv[2] ?? '{}'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
