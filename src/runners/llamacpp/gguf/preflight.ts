import { basename } from 'node:path';
import { ModelError } from '../../../core/errors.js';
import { modelPathKind, notARegularFile } from '../model-file.js';
import { GgufFormatError } from './byte-reader.js';
import {
  GGUF_VALUE_TYPES as T,
  isIntegerType,
  metadataScalar,
  metadataString,
  readGgufHeader,
  type GgufHeader,
} from './header.js';

/**
 * Validates a GGUF file in JS before llama.cpp sees it. Some malformed files abort the whole process from C++
 * (a duplicated token string trips a GGML_ASSERT: exit 134) or make a reader allocate or scan for a very long
 * time; here every such file becomes a one-line ModelError in milliseconds and the process stays alive.
 */

/** What the runner needs to know about a model that passed preflight. */
export interface GgufFacts {
  path: string;
  fileSize: number;
  architecture: string;
  name: string | undefined;
  /** `tokenizer.chat_template`, when the file has one (instruction-tuned models do). */
  chatTemplate: string | undefined;
  /** The training context length (`<arch>.context_length`). */
  contextLength: number;
  blockCount: number;
  tokenCount: number;
  tensorCount: number;
}

/** The Gemma family this CLI runs, with the keys llama.cpp's loader for each requires (src/models/<arch>.cpp). */
const GEMMA_ARCHITECTURES: Record<string, readonly string[]> = {
  gemma: [],
  gemma2: [],
  gemma3: [],
  gemma3n: ['attention.sliding_window'],
  gemma4: [
    'attention.sliding_window',
    'attention.sliding_window_pattern',
    'embedding_length_per_layer_input',
    'attention.key_length_swa',
    'attention.value_length_swa',
  ],
};

/** Required by llama.cpp for every transformer (llama_model_base::load_hparams) and by Gemma's loaders. */
const COMMON_KEYS = [
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
  'attention.layer_norm_rms_epsilon',
];

/** Keys whose value must be an integer or an array of integers (per-layer values). */
const INTEGER_KEYS = new Set([
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
  'attention.sliding_window',
  'embedding_length_per_layer_input',
  'attention.key_length_swa',
  'attention.value_length_swa',
]);

export const SUPPORTED_ARCHITECTURES = Object.keys(GEMMA_ARCHITECTURES);

const REGULAR_FILE_HINT = 'Point at a .gguf file.';

const REPAIR_HINT =
  'Check it with `atomr-infer pull --verify --model <id> --runtime llama-cpp` (downloads it again if damaged) or point at another .gguf.';

function fail(path: string, problem: string, hint = REPAIR_HINT): never {
  throw new ModelError(`${basename(path)} ${problem}`, { code: 'model-file-invalid', hint });
}

function checkRequiredKey(header: GgufHeader, path: string, arch: string, suffix: string): void {
  const key = `${arch}.${suffix}`;
  const entry = header.metadata.get(key);
  if (!entry) fail(path, `is missing the metadata key "${key}" that llama.cpp's ${arch} loader requires`);
  if (!INTEGER_KEYS.has(suffix)) return;
  const ok =
    entry.kind === 'scalar'
      ? isIntegerType(entry.type)
      : suffix === 'attention.sliding_window_pattern' || isIntegerType(entry.elementType);
  if (!ok) fail(path, `has "${key}" of the wrong type (expected an integer)`);
}

function checkTokenizer(header: GgufHeader, path: string): number {
  if (metadataString(header, 'tokenizer.ggml.model') === undefined) {
    fail(path, 'is missing the metadata key "tokenizer.ggml.model" (no tokenizer)');
  }
  const tokens = header.metadata.get('tokenizer.ggml.tokens');
  if (!tokens || tokens.kind !== 'array' || tokens.elementType !== T.STRING || !tokens.values) {
    fail(path, 'has no "tokenizer.ggml.tokens" string array (no vocabulary)');
  }
  const seen = new Map<string, number>();
  tokens.values.forEach((token, index) => {
    const text = String(token);
    const first = seen.get(text);
    // llama.cpp asserts that every token string is unique and aborts the process otherwise.
    if (first !== undefined) {
      fail(
        path,
        `has a corrupt vocabulary: tokens #${first} and #${index} are both ${JSON.stringify(text.slice(0, 40))}`,
      );
    }
    seen.set(text, index);
  });
  return tokens.length;
}

function integerKey(header: GgufHeader, key: string): number {
  const value = metadataScalar(header, key);
  return typeof value === 'number' ? value : 0;
}

/** Reads and validates `path`; throws a ModelError naming the problem, or returns the model's facts. */
export function preflightGguf(path: string): GgufFacts {
  // stat before open: opening a FIFO would block until something writes to it.
  const found = modelPathKind(path);
  if (found.kind === 'other')
    fail(path, `${notARegularFile(found)}: expected a .gguf file`, REGULAR_FILE_HINT);
  let header: GgufHeader;
  try {
    header = readGgufHeader(path);
  } catch (error) {
    if (error instanceof GgufFormatError) fail(path, error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      fail(path, 'does not exist', 'Check the path, or run atomr-infer pull to fetch the model.');
    if (code === 'EISDIR')
      fail(path, 'is a directory, not a .gguf file', 'Point at the .gguf file inside it.');
    if (code === 'EACCES' || code === 'EPERM')
      fail(path, 'cannot be read (permission denied)', 'Fix its permissions.');
    throw error;
  }
  const architecture = metadataString(header, 'general.architecture');
  if (architecture === undefined)
    fail(path, 'has no "general.architecture" metadata, so it is not a model llama.cpp can load');
  // Own keys only: a file may name its architecture "constructor" or "__proto__".
  const archKeys = Object.hasOwn(GEMMA_ARCHITECTURES, architecture)
    ? GEMMA_ARCHITECTURES[architecture]
    : undefined;
  if (archKeys === undefined) {
    fail(
      path,
      `is a "${architecture}" model; atomr-infer runs Gemma models (${SUPPORTED_ARCHITECTURES.join(', ')})`,
      'Point ATOMR_INFER_GEMMA_GGUF / --model at a Gemma GGUF.',
    );
  }
  for (const suffix of [...COMMON_KEYS, ...archKeys]) checkRequiredKey(header, path, architecture, suffix);
  const blockCount = integerKey(header, `${architecture}.block_count`);
  if (blockCount < 1 || blockCount > 512)
    fail(path, `has ${blockCount} layers (block_count), which cannot be right`);
  // llama.cpp GGML_ASSERTs these (a process abort, not an exception) in llama_model_base::load_hparams.
  const experts = integerKey(header, `${architecture}.expert_count`);
  const expertsUsed = integerKey(header, `${architecture}.expert_used_count`);
  if (expertsUsed > experts) fail(path, `uses ${expertsUsed} experts per token but has only ${experts}`);
  if (integerKey(header, `${architecture}.nextn_predict_layers`) > blockCount) {
    fail(path, `has more next-token-prediction layers than layers`);
  }
  const tokenCount = checkTokenizer(header, path);
  if (!header.tensors.some((t) => t.name === 'token_embd.weight')) {
    fail(path, 'has no "token_embd.weight" tensor (no weights)');
  }
  const template = metadataString(header, 'tokenizer.chat_template');
  return {
    path,
    fileSize: header.fileSize,
    architecture,
    name: metadataString(header, 'general.name'),
    chatTemplate: template !== undefined && template.trim() !== '' ? template : undefined,
    contextLength: integerKey(header, `${architecture}.context_length`),
    blockCount,
    tokenCount,
    tensorCount: header.tensors.length,
  };
}
