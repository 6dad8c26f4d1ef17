import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';

// The generated GGUFs the benchmarks share (test/helpers/gguf writes them with random weights): their shapes,
// `small` ≈ 9 MB and `mid` ≈ 220 MB (a token in ~10 ms on one thread here), and the cache that keeps them.
export const MODEL_SHAPES = Object.freeze({
  small: Object.freeze({
    embeddingLength: 256,
    blockCount: 4,
    headCount: 4,
    headCountKv: 2,
    headDim: 64,
    feedForwardLength: 1024,
  }),
  mid: Object.freeze({
    embeddingLength: 1024,
    blockCount: 7,
    headCount: 8,
    headCountKv: 4,
    headDim: 128,
    feedForwardLength: 4096,
  }),
});

/**
 * The generated GGUF at `path`, written once (to `path.part`, then renamed, so an interrupted write is never
 * taken for a model) with writeTinyGguf's `options`; later runs reuse it. `label` names it in the one-time note.
 */
export async function cachedBenchModel(path, label, options) {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  const { writeTinyGguf } = await import('../../test/helpers/gguf/index.mjs');
  console.log(`writing the ${label} test model (once)…`);
  await writeTinyGguf({ ...options, path: `${path}.part` });
  renameSync(`${path}.part`, path);
  return path;
}

/** The peer benchmarks' model `name` (`small` or `mid`), cached beside the peer build in `peerDir`. */
export function peerBenchModel(peerDir, name) {
  return cachedBenchModel(join(peerDir, 'models', `${name}.gguf`), name, {
    arch: 'gemma3',
    seed: 1,
    contextLength: 8192,
    ...MODEL_SHAPES[name],
  });
}
