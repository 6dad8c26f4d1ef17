import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { getVariant, type VariantId } from '../core/catalog.js';
import { ConfigError } from '../core/errors.js';
import { ENV } from '../core/env-names.js';
import { cachedCommit, cachedSnapshotFiles, snapshotPath } from './cache-layout.js';

/**
 * Where the llama.cpp runner's GGUF comes from: the catalog's source for a variant, or the
 * `ATOMR_INFER_GEMMA_GGUF` override (`hf:<repo>[:<quant>]`, `hf:<repo>/<file>.gguf`, or a local path).
 */
export type GgufSpec =
  | { kind: 'hf-quant'; repo: string; quant: string }
  | { kind: 'hf-file'; repo: string; file: string }
  | { kind: 'local'; path: string };

const REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function parseGgufOverride(raw: string, defaultQuant: string): GgufSpec {
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
      return { kind: 'hf-quant', repo, quant: quant ?? defaultQuant };
    }
  }
  throw new ConfigError(
    `${ENV.ggufOverride}=${JSON.stringify(raw)} is not valid: expected hf:<org>/<repo>[:<quant>], hf:<org>/<repo>/<file>.gguf or a path to a .gguf file`,
  );
}

/** The GGUF spec for a variant: the override when set, else the catalog's repo and quant. */
export function ggufSpecFor(variantId: VariantId, override: string | undefined): GgufSpec {
  const { gguf } = getVariant(variantId);
  if (override !== undefined) return parseGgufOverride(override, gguf.quant);
  return { kind: 'hf-quant', repo: gguf.repo, quant: gguf.quant };
}

/**
 * Picks the file for `quant` from a repo listing: `.gguf` files whose name contains the quant
 * (case-insensitive), never the multimodal projector, the first shard of a split file, the shortest name first.
 */
export function pickGgufFile(files: readonly string[], quant: string): string | undefined {
  const needle = quant.toLowerCase();
  const candidates = files.filter((file) => {
    const name = file.toLowerCase();
    if (!name.endsWith('.gguf') || name.includes('mmproj')) return false;
    if (/-\d{5}-of-\d{5}\.gguf$/.test(name) && !/-00001-of-\d{5}\.gguf$/.test(name)) return false;
    return name.split('/').pop()?.includes(needle) ?? false;
  });
  return candidates.sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
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
  const file =
    spec.kind === 'hf-file'
      ? files.includes(spec.file)
        ? spec.file
        : undefined
      : pickGgufFile(files, spec.quant);
  if (!file) return undefined;
  return { path: snapshotPath(cacheDir, spec.repo, commit, file), repo: spec.repo, file, commit };
}
