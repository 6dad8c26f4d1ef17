import { readFileSync } from 'node:fs';
import { ModelError } from '../core/errors.js';
import { ENV } from '../core/env-names.js';
import { specFileIn, type GgufSpec } from './gguf-source.js';

/**
 * Which of a repo's files a runner needs.
 *   vLLM: the top-level config, tokenizer, processor, chat-template and safetensors files — everything
 *         `vllm.LLM(model=<repo>)` and transformers' AutoProcessor read — and no README, images, GGUF or
 *         PyTorch .bin duplicates.
 *   llama.cpp: one GGUF (all shards of a split file), picked by quant or named by the override.
 */

export type PullRuntime = 'vllm' | 'llama-cpp';

const VLLM_EXTENSIONS = ['.json', '.safetensors', '.model', '.jinja', '.tiktoken', '.txt'];
const VLLM_EXCLUDED = /^(readme|license|notice|use_policy|\.gitattributes)/i;

/** The files vLLM needs from a transformers repo listing (paths, `/`-separated). */
export function selectVllmFiles(paths: readonly string[], repo: string): string[] {
  const selected = paths.filter((path) => {
    if (path.includes('/')) return false; // original/, onnx/, gguf/ … are other formats
    const lower = path.toLowerCase();
    if (VLLM_EXCLUDED.test(lower)) return false;
    return VLLM_EXTENSIONS.some((extension) => lower.endsWith(extension));
  });
  if (!selected.includes('config.json')) {
    throw new ModelError(`${repo} has no config.json at its top level, so vLLM cannot load it`, {
      code: 'hub-not-a-transformers-repo',
      hint: 'check --model, or use --runtime llama-cpp',
    });
  }
  if (!selected.some((path) => path.endsWith('.safetensors'))) {
    throw new ModelError(`${repo} has no safetensors weights`, {
      code: 'hub-no-safetensors',
      hint: 'use --runtime llama-cpp for GGUF weights',
    });
  }
  return selected.sort();
}

/** True when the cached files are enough for vLLM: config, weights, and every shard the index names. */
export function vllmSnapshotComplete(paths: readonly string[], snapshotDir: string): boolean {
  if (!paths.includes('config.json') || !paths.some((path) => path.endsWith('.safetensors'))) return false;
  if (!paths.includes('model.safetensors.index.json')) return true;
  try {
    const index = JSON.parse(readFileSync(`${snapshotDir}/model.safetensors.index.json`, 'utf8')) as {
      weight_map?: Record<string, string>;
    };
    return Object.values(index.weight_map ?? {}).every((shard) => paths.includes(shard));
  } catch {
    return false;
  }
}

const SHARD = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

/** The GGUF file(s) for a spec: the picked file and, for a split GGUF, all its shards in order. */
export function selectGgufFiles(paths: readonly string[], spec: GgufSpec, repo: string): string[] {
  if (spec.kind === 'local') return [];
  const first = specFileIn(paths, spec);
  if (!first) {
    const ggufs = paths.filter((path) => path.toLowerCase().endsWith('.gguf') && !/mmproj/i.test(path));
    const wanted = spec.kind === 'hf-file' ? `file ${spec.file}` : `${spec.quant} GGUF`;
    throw new ModelError(`${repo} has no ${wanted}`, {
      code: 'hub-gguf-not-found',
      hint: ggufs.length
        ? `available: ${ggufs.slice(0, 8).join(', ')}${ggufs.length > 8 ? ', …' : ''}; pick one with ${ENV.ggufOverride}=hf:${repo}:<quant>`
        : `${repo} holds no GGUF files; set ${ENV.ggufOverride} to another repo`,
    });
  }
  const shard = SHARD.exec(first);
  if (!shard) return [first];
  const [, stem, , count] = shard;
  const shards = Array.from(
    { length: Number(count) },
    (_, i) => `${stem}-${String(i + 1).padStart(5, '0')}-of-${count}.gguf`,
  );
  const missing = shards.filter((path) => !paths.includes(path));
  if (missing.length) {
    throw new ModelError(`${repo} lists ${first} but not its shard ${missing[0]}`, {
      code: 'hub-gguf-incomplete',
      hint: `pick a single-file GGUF with ${ENV.ggufOverride}=hf:${repo}/<file>.gguf`,
    });
  }
  return shards;
}
