import { readFileSync, statSync } from 'node:fs';
import { getVariant, type VariantId } from '../core/catalog.js';
import { cachedCommit, cachedSnapshotFiles, snapshotPath } from '../hub/cache-layout.js';
import { ggufSpecFor, locateGguf, type GgufSpec } from '../hub/gguf-source.js';
import { bytesToGiB, roundGiB } from './units.js';

/**
 * Whether each runtime's weights are already in the Hugging Face cache (then no token, download or disk space
 * is needed) and how big they are: real sizes when cached or given by the caller, the catalog's estimates otherwise.
 */

export interface DownloadSizes {
  /** Total bytes of the variant's safetensors repo, as read from the Hub. */
  vllmBytes?: number;
  /** Bytes of the GGUF file the llama.cpp runner would download. */
  ggufBytes?: number;
  /** The GGUF file the quant preference chain picked from the Hub's listing. */
  ggufFile?: string;
}

export interface WeightsFacts {
  vllm: {
    repo: string;
    cached: boolean;
    sizeGiB: number;
    /** `measured`: files in the cache; `hub`: sizes passed in from the Hub; `estimate`: the catalog's. */
    sizeSource: SizeSource;
  };
  gguf: {
    spec: GgufSpec;
    /** `hf:<repo>:<quant>`, `hf:<repo>/<file>` or the local path. */
    label: string;
    cached: boolean;
    path?: string;
    sizeGiB: number;
    sizeSource: SizeSource;
    /** A local ATOMR_INFER_GEMMA_GGUF path that does not exist. */
    missingLocal?: boolean;
  };
}

export type SizeSource = 'measured' | 'hub' | 'estimate';

export function inspectWeights(
  model: VariantId,
  ggufOverride: string | undefined,
  cacheDir: string,
  sizes: DownloadSizes = {},
): WeightsFacts {
  const variant = getVariant(model);
  const vllmCached = cachedSafetensorsBytes(cacheDir, model);
  const vllmSize = pickSize(vllmCached, sizes.vllmBytes, variant.safetensorsBytes);

  const spec = ggufSpecFor(model, ggufOverride);
  const located = locateGguf(spec, cacheDir);
  const ggufBytes = located ? fileSize(located.path) : undefined;
  const ggufSize = pickSize(ggufBytes, sizes.ggufBytes, expectedGgufBytes(model, spec));
  // The file itself once it is known (in the cache, or picked from the Hub's listing), else the spec.
  const file = located?.file ?? (spec.kind === 'hf-quant' ? sizes.ggufFile : undefined);
  return {
    vllm: { repo: model, cached: vllmCached !== undefined, ...sizeFields(vllmSize) },
    gguf: {
      spec,
      label: file && spec.kind !== 'local' ? `hf:${spec.repo}/${file}` : ggufLabel(spec),
      cached: located !== undefined,
      ...(located ? { path: located.path } : {}),
      ...sizeFields(ggufSize),
      ...(spec.kind === 'local' && !located ? { missingLocal: true } : {}),
    },
  };
}

function sizeFields(size: { bytes: number; source: SizeSource }): {
  sizeGiB: number;
  sizeSource: SizeSource;
} {
  return { sizeGiB: roundGiB(bytesToGiB(size.bytes)), sizeSource: size.source };
}

function pickSize(
  measured: number | undefined,
  fromHub: number | undefined,
  estimate: number,
): { bytes: number; source: SizeSource } {
  if (measured !== undefined) return { bytes: measured, source: 'measured' };
  if (fromHub !== undefined && fromHub > 0) return { bytes: fromHub, source: 'hub' };
  return { bytes: estimate, source: 'estimate' };
}

/** `hf:<repo>` (the catalog's quant chain), `hf:<repo>:<quant>`, `hf:<repo>/<file>` or the local path. */
export function ggufLabel(spec: GgufSpec): string {
  if (spec.kind === 'local') return spec.path;
  if (spec.kind === 'hf-file') return `hf:${spec.repo}/${spec.file}`;
  return spec.quants.length === 1 ? `hf:${spec.repo}:${spec.quant}` : `hf:${spec.repo}`;
}

/**
 * The catalog's size for a GGUF spec: Google's QAT file when the override names it (or its repo), else the
 * variant's expected file (the nearest guess for any other repo: the same model at a similar quant).
 */
export function expectedGgufBytes(model: VariantId, spec: GgufSpec): number {
  const variant = getVariant(model);
  const qat = variant.qatGguf;
  if (qat && spec.kind !== 'local' && spec.repo === qat.repo) return qat.bytes;
  return variant.gguf.expectedBytes;
}

/**
 * Bytes of the cached safetensors snapshot, or `undefined` unless it is complete: config.json plus every shard
 * the index names (or the single model.safetensors). A half-finished download does not count as cached.
 */
export function cachedSafetensorsBytes(cacheDir: string, repo: string): number | undefined {
  const commit = cachedCommit(cacheDir, repo);
  if (!commit) return undefined;
  const files = new Set(cachedSnapshotFiles(cacheDir, repo));
  if (!files.has('config.json')) return undefined;
  let shards: string[];
  if (files.has('model.safetensors.index.json')) {
    try {
      const index = JSON.parse(
        readFileSync(snapshotPath(cacheDir, repo, commit, 'model.safetensors.index.json'), 'utf8'),
      ) as { weight_map?: Record<string, string> };
      shards = [...new Set(Object.values(index.weight_map ?? {}))];
    } catch {
      return undefined;
    }
  } else {
    shards = [...files].filter((file) => file.endsWith('.safetensors'));
  }
  if (shards.length === 0 || !shards.every((shard) => files.has(shard))) return undefined;
  let bytes = 0;
  for (const shard of shards) bytes += fileSize(snapshotPath(cacheDir, repo, commit, shard)) ?? 0;
  return bytes;
}

function fileSize(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}
