// The raw baseline: node-llama-cpp's LlamaChatSession used directly, as a user of the library would, with the
// same chat wrapper, threads, seed and sampling the runner uses (repeat penalty off and no default system
// prompt, as in the runner), so both decode the very same tokens.
//
//   import { measureRawLlama } from './lib/raw-llama.mjs';   // in-process
//   runInChild(RAW_LLAMA_SCRIPT, options)                    // isolated process (own peak RSS)
//   node bench/lib/raw-llama.mjs '{"modelPath":"…","threads":1,"maxTokens":1200}'
import { performance } from 'node:perf_hooks';
import { BENCH_PROMPT, BENCH_SAMPLING, createMeter, isMain, peakRssMiB } from './measure.mjs';

export const RAW_LLAMA_SCRIPT = new URL(import.meta.url).pathname;

/**
 * @param {{ modelPath: string, threads?: number, maxTokens?: number, contextSize?: number,
 *           prompt?: string, sampling?: object, arch?: 'gemma3' | 'gemma4' }} options
 */
export async function measureRawLlama(options) {
  const { modelPath, threads = 1, maxTokens = 1200, contextSize = 4096 } = options;
  const loadStart = performance.now();
  const { getLlama, LlamaChatSession, GemmaChatWrapper, Gemma4ChatWrapper } = await import('node-llama-cpp');
  const llama = await getLlama({ build: 'never', gpu: false, logLevel: 'error' });
  if (llama.maxThreads !== 0 && threads > llama.maxThreads) llama.maxThreads = threads;
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize, threads });
  const chatWrapper =
    (options.arch ?? 'gemma4') === 'gemma4'
      ? new Gemma4ChatWrapper({ reasoning: false })
      : new GemmaChatWrapper();
  const session = new LlamaChatSession({ contextSequence: context.getSequence(), chatWrapper });
  // LlamaChatSession starts with its own default system prompt; the runner sends only the messages it is given.
  session.setChatHistory([]);
  const loadMs = performance.now() - loadStart;
  let tokens = 0;
  let text = '';
  const meter = createMeter();
  await session.prompt(options.prompt ?? BENCH_PROMPT, {
    ...BENCH_SAMPLING,
    ...options.sampling,
    maxTokens,
    repeatPenalty: false,
    onTextChunk(chunk) {
      text += chunk;
      meter.tick();
    },
    onToken(chunk) {
      tokens += chunk.length;
    },
  });
  const result = { ...meter.result(tokens), loadMs, peakRssMiB: peakRssMiB(), textLength: text.length, text };
  await context.dispose();
  await model.dispose();
  return result;
}

if (isMain(import.meta.url)) {
  const result = await measureRawLlama(JSON.parse(process.argv[2] ?? '{}'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
