// Tiny random-weight Gemma models as real GGUF files that llama.cpp (through node-llama-cpp) loads and runs.
//
//   writeTinyGguf({ arch: 'gemma3' | 'gemma4', seed, path?, instructionTuned?, chatTemplate?, endOfTurn?, … })
//     → Promise<string> (the path; a fresh temp file when `path` is omitted)
//
// About 330 KB, deterministic for (arch, seed, options), ~2,000+ tokens/s on one CPU thread. The tensors and
// keys are exactly what llama.cpp's gemma3 / gemma4 loaders require (src/models/gemma3.cpp, gemma4.cpp).
//
// How the random model is made to behave:
// - Channel 0 of the residual stream is a constant: every token embedding has 1 there and no layer writes to it
//   (row 0 of attn_output / ffn_down is zero). After the final norm it is a positive number, so column 0 of
//   `output.weight` acts as a per-token logit bias. That bias keeps byte, character and control tokens from
//   ever being sampled (the text reads as words and punctuation) and sets how likely the end-of-turn tokens
//   are: `endOfTurn: 'never'` (answers run to max tokens), 'sometimes' (answers of a few dozen tokens when
//   sampling), 'immediately' (the model ends its turn at once), or a number (the raw bias).
// - Instruction-tuned models (default) carry a Gemma chat template; base models carry none.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGguf, GgmlType, kv, kvArray } from './encode.mjs';
import { GEMMA3_CHAT_TEMPLATE, GEMMA4_CHAT_TEMPLATE } from './templates.mjs';
import { buildVocab, SPECIAL_TOKENS } from './vocab.mjs';

const END_OF_TURN_BIAS = { never: -40, sometimes: 2, immediately: 40 };
const SUPPRESSED_BIAS = -40;
const PUNCTUATION_BIAS = -1;

/** Deterministic PRNG (mulberry32) with a normal sampler (Box–Muller). */
function createRandom(seed) {
  let state = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (std = 1) => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform()) * std;
  };
  return { uniform, normal };
}

function resolveOptions(options) {
  const arch = options.arch ?? 'gemma3';
  if (arch !== 'gemma3' && arch !== 'gemma4') throw new Error(`arch must be gemma3 or gemma4, got ${arch}`);
  const endOfTurn = options.endOfTurn ?? 'never';
  const eogBias = typeof endOfTurn === 'number' ? endOfTurn : END_OF_TURN_BIAS[endOfTurn];
  if (eogBias === undefined) throw new Error(`endOfTurn must be never, sometimes, immediately or a number`);
  const instructionTuned = options.instructionTuned ?? true;
  const defaultTemplate = arch === 'gemma4' ? GEMMA4_CHAT_TEMPLATE : GEMMA3_CHAT_TEMPLATE;
  return {
    arch,
    seed: options.seed ?? 1,
    instructionTuned,
    chatTemplate:
      options.chatTemplate === undefined ? (instructionTuned ? defaultTemplate : null) : options.chatTemplate,
    eogBias,
    embeddingLength: options.embeddingLength ?? 64,
    blockCount: options.blockCount ?? 2,
    headCount: options.headCount ?? 2,
    headCountKv: options.headCountKv ?? 1,
    headDim: options.headDim ?? 32,
    feedForwardLength: options.feedForwardLength ?? 128,
    contextLength: options.contextLength ?? 8192,
    slidingWindow: options.slidingWindow ?? 512,
    dtype: options.dtype ?? 'f16',
    wordCount: options.wordCount,
    name:
      options.name ??
      `Tiny ${arch === 'gemma4' ? 'Gemma 4' : 'Gemma 3'}${instructionTuned ? ' it' : ''} test model`,
    omitKeys: new Set(options.omitKeys ?? []),
    duplicateToken: options.duplicateToken ?? false,
    extraMetadata: options.extraMetadata ?? [],
    tensorOffsetOutOfFile: options.tensorOffsetOutOfFile ?? false,
  };
}

function buildMetadata(o, vocab) {
  const a = o.arch;
  const tokens = [...vocab.tokens];
  if (o.duplicateToken) tokens[tokens.length - 1] = tokens[tokens.length - 2];
  const entries = [
    ['general.architecture', kv('str', a)],
    ['general.name', kv('str', o.name)],
    ['general.file_type', kv('u32', o.dtype === 'f16' ? 1 : 0)],
    [`${a}.context_length`, kv('u32', o.contextLength)],
    [`${a}.embedding_length`, kv('u32', o.embeddingLength)],
    [`${a}.block_count`, kv('u32', o.blockCount)],
    [`${a}.feed_forward_length`, kv('u32', o.feedForwardLength)],
    [`${a}.attention.head_count`, kv('u32', o.headCount)],
    [`${a}.attention.head_count_kv`, kv('u32', o.headCountKv)],
    [`${a}.attention.key_length`, kv('u32', o.headDim)],
    [`${a}.attention.value_length`, kv('u32', o.headDim)],
    [`${a}.attention.layer_norm_rms_epsilon`, kv('f32', 1e-6)],
    [`${a}.rope.freq_base`, kv('f32', 10000)],
    [`${a}.attention.sliding_window`, kv('u32', o.slidingWindow)],
  ];
  if (a === 'gemma4') {
    // Every second layer is full attention (the real models use 5 sliding : 1 full).
    const pattern = Array.from({ length: o.blockCount }, (_, i) => i % 2 === 0);
    entries.push(
      [`${a}.attention.sliding_window_pattern`, kvArray('bool', pattern)],
      [`${a}.attention.key_length_swa`, kv('u32', o.headDim)],
      [`${a}.attention.value_length_swa`, kv('u32', o.headDim)],
      [`${a}.embedding_length_per_layer_input`, kv('u32', 0)],
      [`${a}.rope.freq_base_swa`, kv('f32', 10000)],
    );
  }
  entries.push(
    ['tokenizer.ggml.model', kv('str', 'llama')],
    ['tokenizer.ggml.pre', kv('str', 'default')],
    ['tokenizer.ggml.tokens', kvArray('str', tokens)],
    ['tokenizer.ggml.scores', kvArray('f32', vocab.scores)],
    ['tokenizer.ggml.token_type', kvArray('i32', vocab.types)],
    ['tokenizer.ggml.bos_token_id', kv('u32', SPECIAL_TOKENS.bos.id)],
    ['tokenizer.ggml.eos_token_id', kv('u32', SPECIAL_TOKENS.eos.id)],
    ['tokenizer.ggml.unknown_token_id', kv('u32', SPECIAL_TOKENS.unk.id)],
    ['tokenizer.ggml.padding_token_id', kv('u32', SPECIAL_TOKENS.pad.id)],
    ['tokenizer.ggml.add_bos_token', kv('bool', true)],
    ['tokenizer.ggml.add_eos_token', kv('bool', false)],
    ['tokenizer.ggml.add_space_prefix', kv('bool', false)],
  );
  if (o.chatTemplate !== null) entries.push(['tokenizer.chat_template', kv('str', o.chatTemplate)]);
  return [...entries.filter(([key]) => !o.omitKeys.has(key)), ...o.extraMetadata];
}

function buildTensors(o, vocab, random) {
  const nEmbd = o.embeddingLength;
  const nVocab = vocab.tokens.length;
  const nQ = o.headCount * o.headDim;
  const nKv = o.headCountKv * o.headDim;
  const matrixType = o.dtype === 'f16' ? GgmlType.F16 : GgmlType.F32;
  const tensors = [];
  /** `dims` in ggml order: dims[0] is the row length (inputs), dims[1] the number of rows (outputs). */
  const matrix = (name, dims, std, zeroRow = -1) => {
    const [cols, rows] = dims;
    const data = new Float32Array(cols * rows);
    for (let i = 0; i < data.length; i++) data[i] = random.normal(std);
    if (zeroRow >= 0) data.fill(0, zeroRow * cols, (zeroRow + 1) * cols);
    tensors.push({ name, dims, type: matrixType, data });
  };
  const vector = (name, length, value = 1, channelZero = false) => {
    const data = new Float32Array(length).fill(value);
    if (channelZero) data[0] = 0;
    tensors.push({ name, dims: [length], type: GgmlType.F32, data });
  };

  const embedding = new Float32Array(nEmbd * nVocab);
  for (let t = 0; t < nVocab; t++) {
    embedding[t * nEmbd] = 1;
    for (let d = 1; d < nEmbd; d++) embedding[t * nEmbd + d] = random.normal(1);
  }
  tensors.push({ name: 'token_embd.weight', dims: [nEmbd, nVocab], type: matrixType, data: embedding });

  const eog = new Set([SPECIAL_TOKENS.eos.id, SPECIAL_TOKENS.endOfTurn.id, SPECIAL_TOKENS.turnClose.id]);
  const output = new Float32Array(nEmbd * nVocab);
  for (let t = 0; t < nVocab; t++) {
    const isPunctuation = vocab.generatable[t] && !vocab.tokens[t].startsWith('\u2581');
    output[t * nEmbd] = eog.has(t)
      ? o.eogBias
      : !vocab.generatable[t]
        ? SUPPRESSED_BIAS
        : isPunctuation
          ? PUNCTUATION_BIAS
          : 0;
    for (let d = 1; d < nEmbd; d++) output[t * nEmbd + d] = random.normal(0.3);
  }
  tensors.push({ name: 'output.weight', dims: [nEmbd, nVocab], type: matrixType, data: output });
  vector('output_norm.weight', nEmbd);
  if (o.arch === 'gemma4') vector('rope_freqs.weight', o.headDim / 2);

  for (let i = 0; i < o.blockCount; i++) {
    const blk = `blk.${i}`;
    vector(`${blk}.attn_norm.weight`, nEmbd, 1, true);
    matrix(`${blk}.attn_q.weight`, [nEmbd, nQ], 1 / Math.sqrt(nEmbd));
    matrix(`${blk}.attn_k.weight`, [nEmbd, nKv], 1 / Math.sqrt(nEmbd));
    matrix(`${blk}.attn_v.weight`, [nEmbd, nKv], 1 / Math.sqrt(nEmbd));
    matrix(`${blk}.attn_output.weight`, [nQ, nEmbd], 1 / Math.sqrt(nQ), 0);
    vector(`${blk}.attn_q_norm.weight`, o.headDim);
    vector(`${blk}.attn_k_norm.weight`, o.headDim);
    vector(`${blk}.post_attention_norm.weight`, nEmbd, 2);
    vector(`${blk}.ffn_norm.weight`, nEmbd, 1, true);
    matrix(`${blk}.ffn_gate.weight`, [nEmbd, o.feedForwardLength], 1 / Math.sqrt(nEmbd));
    matrix(`${blk}.ffn_up.weight`, [nEmbd, o.feedForwardLength], 1 / Math.sqrt(nEmbd));
    matrix(`${blk}.ffn_down.weight`, [o.feedForwardLength, nEmbd], 1 / Math.sqrt(o.feedForwardLength), 0);
    vector(`${blk}.post_ffw_norm.weight`, nEmbd, 2);
  }
  // A malformed file for preflight tests: the last tensor's data claimed to lie far past the end of the file.
  if (o.tensorOffsetOutOfFile) tensors[tensors.length - 1].offset = 2 ** 40;
  return tensors;
}

/**
 * The GGUF bytes of a tiny model (see the top of this file for the options).
 * @returns {Buffer}
 */
export function buildTinyGguf(options = {}) {
  const o = resolveOptions(options);
  const vocab = buildVocab({ wordCount: o.wordCount });
  const random = createRandom(o.seed);
  const tensors = buildTensors(o, vocab, random);
  return encodeGguf({ metadata: buildMetadata(o, vocab), tensors });
}

const createdDirs = [];

/**
 * A fresh temporary directory for generated models, removed when the process exits: a test run writes
 * hundreds of these, and a developer's /tmp should not keep them.
 */
export function tinyGgufDir() {
  const dir = mkdtempSync(join(tmpdir(), 'atomr-gguf-'));
  if (createdDirs.length === 0) {
    process.once('exit', () => {
      for (const created of createdDirs) rmSync(created, { recursive: true, force: true });
    });
  }
  createdDirs.push(dir);
  return dir;
}

/**
 * Writes a tiny model and returns its path.
 * @returns {Promise<string>}
 */
export async function writeTinyGguf(options = {}) {
  const path =
    options.path ??
    join(
      tinyGgufDir(),
      `tiny-${options.arch ?? 'gemma3'}-${options.instructionTuned === false ? 'base' : 'it'}.gguf`,
    );
  writeFileSync(path, buildTinyGguf(options));
  return path;
}

/** The token texts of the tiny vocabulary (for tests that check output is made of vocabulary words). */
export function tinyVocabulary(options = {}) {
  return buildVocab({ wordCount: options.wordCount }).tokens;
}
