// Test GGUF generator — README
//
// Writes tiny random-weight Gemma models (gemma3 / gemma4 architectures, ~330 KB, deterministic for a seed)
// that node-llama-cpp really loads and runs at thousands of tokens/s on one thread, plus malformed files for
// the runner's preflight. Plain ESM JavaScript with .d.mts declarations, so both the TypeScript tests
// (`import … from '../helpers/gguf/index.mjs'`) and the plain-JS benchmarks (bench/*.mjs) use the same code
// without a build step or new dependencies.
//
//   const path = await writeTinyGguf({ arch: 'gemma4', seed: 1 });               // instruction-tuned, chat template
//   const base = await writeTinyGguf({ arch: 'gemma3', instructionTuned: false }); // base model: no template
//   const short = await writeTinyGguf({ endOfTurn: 'sometimes' });                 // answers end by themselves
//   const bad = await writeMalformedGguf({ kind: 'truncated-data' });
//
// Files: encode.mjs (GGUF v3 encoder), vocab.mjs (Gemma special tokens + word vocabulary), templates.mjs
// (Gemma 3 / Gemma 4 chat templates), tiny-model.mjs (weights and keys), malformed.mjs (broken files).
export { buildTinyGguf, tinyGgufDir, tinyVocabulary, writeTinyGguf } from './tiny-model.mjs';
export { buildMalformedGguf, MALFORMED_KINDS, writeMalformedGguf } from './malformed.mjs';
export { GEMMA3_CHAT_TEMPLATE, GEMMA4_CHAT_TEMPLATE } from './templates.mjs';
export { SPECIAL_TOKENS } from './vocab.mjs';
export { encodeGguf, GgmlType, GgufType, kv, kvArray } from './encode.mjs';
