#!/usr/bin/env node
// `npm run bench -- grammar`: decode speed with a `json_schema` response format (a grammar constrains every
// sampled token) vs free text, through the llama.cpp runner on the same tiny GGUF (gemma4, seed 1), 1 thread,
// same seed and sampling. The schema is one unbounded string, so both runs decode the same number of tokens.
// Medians over ROUNDS interleaved runs, each in its own process (issue 12's benchmark: report the ratio).
//
//   node bench/grammar.bench.mjs [--tokens N] [--rounds R]
import { median, runInChild, writeBenchModel, argument } from './lib/measure.mjs';
import { RUNNER_LLAMA_SCRIPT } from './lib/runner-llama.mjs';

const TOKENS = argument('--tokens', 600);
const ROUNDS = argument('--rounds', 3);
const responseFormat = {
  type: 'json_schema',
  schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

const modelPath = await writeBenchModel({ arch: 'gemma4', seed: 1 });
const free = [];
const constrained = [];
for (let round = 0; round < ROUNDS; round++) {
  free.push(runInChild(RUNNER_LLAMA_SCRIPT, { modelPath, threads: 1, maxTokens: TOKENS }));
  constrained.push(
    runInChild(RUNNER_LLAMA_SCRIPT, { modelPath, threads: 1, maxTokens: TOKENS, responseFormat }),
  );
}
const rate = (runs) => median(runs.map((run) => run.tokensPerSecond));
const tokens = (runs) => median(runs.map((run) => run.tokens));
const f = rate(free);
const c = rate(constrained);
console.log(`grammar: ${ROUNDS} interleaved rounds, ${TOKENS} tokens each, 1 thread`);
console.log(`  free text        ${f.toFixed(0)} tok/s (${tokens(free)} tokens)`);
console.log(`  json_schema      ${c.toFixed(0)} tok/s (${tokens(constrained)} tokens)`);
console.log(`  ratio constrained / free: ${(c / f).toFixed(2)}`);
