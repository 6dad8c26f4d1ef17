// Malformed GGUF files for preflight tests. Several of these abort a process from inside llama.cpp (exit 134)
// or make it allocate/scan for minutes when handed over unchecked, which is why the runner validates first.
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTinyGguf, tinyGgufDir } from './tiny-model.mjs';

/** Every kind `writeMalformedGguf` can produce. */
export const MALFORMED_KINDS = Object.freeze([
  'empty',
  'text',
  'bad-magic',
  'bad-version',
  'truncated-header',
  'truncated-data',
  'tensor-count',
  'kv-count',
  'string-length',
  'missing-key',
  'unsupported-architecture',
  'duplicate-token',
  'tensor-out-of-file',
]);

// Header offsets: magic 0..4, version 4..8, tensor count 8..16, kv count 16..24, first key's length 24..32.
const VERSION_OFFSET = 4;
const TENSOR_COUNT_OFFSET = 8;
const KV_COUNT_OFFSET = 16;
const FIRST_KEY_LENGTH_OFFSET = 24;

function patched(buffer, edit) {
  const copy = Buffer.from(buffer);
  edit(copy);
  return copy;
}

/**
 * The bytes of a malformed file of `kind` (based on a valid tiny model of `arch`/`seed` where relevant).
 * @returns {Buffer}
 */
export function buildMalformedGguf({ kind, arch = 'gemma3', seed = 1 }) {
  const good = () => buildTinyGguf({ arch, seed });
  switch (kind) {
    case 'empty':
      return Buffer.alloc(0);
    case 'text':
      return Buffer.from('This is a README, not a model.\nIt was saved with a .gguf name by mistake.\n');
    case 'bad-magic':
      return patched(good(), (b) => b.write('GGML', 0, 'latin1'));
    case 'bad-version':
      return patched(good(), (b) => b.writeUInt32LE(99, VERSION_OFFSET));
    case 'truncated-header':
      return good().subarray(0, 4096);
    case 'truncated-data': {
      const bytes = good();
      return bytes.subarray(0, Math.floor(bytes.length * 0.8));
    }
    case 'tensor-count':
      return patched(good(), (b) => b.writeBigUInt64LE(1n << 40n, TENSOR_COUNT_OFFSET));
    case 'kv-count':
      return patched(good(), (b) => b.writeBigUInt64LE(1n << 40n, KV_COUNT_OFFSET));
    case 'string-length':
      return patched(good(), (b) => b.writeBigUInt64LE(1n << 50n, FIRST_KEY_LENGTH_OFFSET));
    case 'missing-key':
      return buildTinyGguf({ arch, seed, omitKeys: [`${arch}.embedding_length`] });
    case 'unsupported-architecture':
      return buildTinyGguf({ arch, seed, ...renamedArch() });
    case 'duplicate-token':
      return buildTinyGguf({ arch, seed, duplicateToken: true });
    case 'tensor-out-of-file':
      return buildTinyGguf({ arch, seed, tensorOffsetOutOfFile: true });
    default:
      throw new Error(`unknown malformed kind ${kind}; expected one of ${MALFORMED_KINDS.join(', ')}`);
  }
}

/** A model whose `general.architecture` names something llama.cpp does not know. */
function renamedArch() {
  return {
    omitKeys: ['general.architecture'],
    extraMetadata: [['general.architecture', { type: 8, value: 'not-a-real-arch' }]],
  };
}

/**
 * Writes a malformed file and returns its path.
 * @returns {Promise<string>}
 */
export async function writeMalformedGguf({ kind, arch, seed, path }) {
  const target = path ?? join(tinyGgufDir(), `malformed-${kind}.gguf`);
  writeFileSync(target, buildMalformedGguf({ kind, arch, seed }));
  return target;
}
