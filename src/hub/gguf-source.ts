import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { GGUF_QUANT_PREFERENCE, getVariant, type VariantId } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { ENV } from '../core/env-names.js';
import { cachedCommit, cachedSnapshotFiles, snapshotPath } from './cache-layout.js';

/**
 * Where the llama.cpp runner's GGUF comes from: the catalog's source for a variant, or the
 * `ATOMR_INFER_GEMMA_GGUF` override (`hf:<repo>[:<quant>]`, `hf:<repo>/<file>.gguf`, or a local path).
 * `hf-quant` picks from the repo's listing: the first of `quants` present (the catalog's preference chain, or the
 * one quant the user named); `quant` says the same in words for messages.
 */
export type GgufSpec =
  | { kind: 'hf-quant'; repo: string; quant: string; quants: readonly string[] }
  | { kind: 'hf-file'; repo: string; file: string }
  | { kind: 'local'; path: string };

const REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** An `hf-quant` spec: one named quant, or (none named) the catalog's preference chain. */
export function quantSpec(repo: string, quant?: string): GgufSpec {
  const quants = quant === undefined || quant === '' ? GGUF_QUANT_PREFERENCE : [quant];
  return { kind: 'hf-quant', repo, quant: describeQuants(quants), quants };
}

/** `Q4_K_M, Q4_0, Q5_K_M or Q8_0`. */
function describeQuants(quants: readonly string[]): string {
  if (quants.length <= 1) return quants[0] ?? '';
  return `${quants.slice(0, -1).join(', ')} or ${quants[quants.length - 1] ?? ''}`;
}

export function parseGgufOverride(raw: string): GgufSpec {
  const value = raw.trim();
  if (!value.startsWith('hf:')) return { kind: 'local', path: resolve(value) };
  const rest = value.slice(3);
  const parts = rest.split('/');
  if (parts.length >= 3) {
    const repo = parts.slice(0, 2).join('/');
    const file = parts.slice(2).join('/');
    if (REPO.test(repo) && file.toLowerCase().endsWith('.gguf')) return { kind: 'hf-file', repo, file };
  } else {
    const [repo = '', quant] = rest.split(':');
    if (REPO.test(repo) && (quant === undefined || /^[\w.-]+$/.test(quant))) {
      return quantSpec(repo, quant);
    }
  }
  throw new ConfigError(
    `${ENV.ggufOverride}=${JSON.stringify(raw)} is not valid: expected hf:<org>/<repo>[:<quant>], hf:<org>/<repo>/<file>.gguf or a path to a .gguf file`,
  );
}

/** The GGUF spec for a variant: the override when set, else the catalog's repo and quant preference chain. */
export function ggufSpecFor(variantId: VariantId, override: string | undefined): GgufSpec {
  if (override !== undefined) return parseGgufOverride(override);
  return quantSpec(getVariant(variantId).gguf.repo);
}

/** Files that are not the language model: projectors, importance matrices, drafters (llama.cpp skips them too). */
const NOT_A_TEXT_MODEL = /(^|[/_.-])(mmproj|imatrix|mtp-|eagle3-|dflash-|dspark-)/;

/**
 * Picks the file from a repo listing: for the first quant in `quants` that any file has, the `.gguf` files whose
 * name contains it (case-insensitive: `q4_0` matches Google's `gemma-4-E4B_q4_0-it.gguf`), never a multimodal
 * projector or another sidecar, the first shard of a split file, the shortest name first.
 */
export function pickGgufFile(files: readonly string[], quants: readonly string[]): string | undefined {
  const models = files.filter((file) => {
    const name = file.toLowerCase();
    if (!name.endsWith('.gguf') || NOT_A_TEXT_MODEL.test(name) || name.includes('mmproj')) return false;
    return !(/-\d{5}-of-\d{5}\.gguf$/.test(name) && !/-00001-of-\d{5}\.gguf$/.test(name));
  });
  for (const quant of quants) {
    const needle = quant.toLowerCase();
    const candidates = models.filter((file) => file.toLowerCase().split('/').pop()?.includes(needle));
    const best = candidates.sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
    if (best) return best;
  }
  return undefined;
}

/** The file a repo spec names in `files`: its exact file, or the quant pick; undefined when it is not there. */
export function specFileIn(
  files: readonly string[],
  spec: Exclude<GgufSpec, { kind: 'local' }>,
): string | undefined {
  if (spec.kind === 'hf-file') return files.includes(spec.file) ? spec.file : undefined;
  return pickGgufFile(files, spec.quants);
}

export interface LocatedGguf {
  path: string;
  /** Set when the file comes from the Hugging Face cache. */
  repo?: string;
  file?: string;
  commit?: string;
}

/** Finds the spec's GGUF on disk (local path, or the HF cache); `undefined` when it is not there yet. */
export function locateGguf(spec: GgufSpec, cacheDir: string, revision = 'main'): LocatedGguf | undefined {
  if (spec.kind === 'local') return existsSync(spec.path) ? { path: spec.path } : undefined;
  const commit = cachedCommit(cacheDir, spec.repo, revision);
  if (!commit) return undefined;
  const files = cachedSnapshotFiles(cacheDir, spec.repo, revision);
  const file = specFileIn(files, spec);
  if (!file) return undefined;
  return { path: snapshotPath(cacheDir, spec.repo, commit, file), repo: spec.repo, file, commit };
}
