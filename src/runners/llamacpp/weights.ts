import { resolve } from 'node:path';
import { isVariantId } from '../../core/catalog.js';
import { ModelError } from '../../core/errors.js';
import { hfHubCacheDir } from '../../core/paths.js';
import type { WeightSource } from '../../core/model-runner.js';
import { locateGguf, quantSpec, type GgufSpec } from '../../hub/gguf-source.js';
import { modelPathKind, notARegularFile } from './model-file.js';

/** Where a runner's GGUF came from, for describe() and error messages. */
export interface ResolvedWeights {
  path: string;
  /** `org/repo/file.gguf@commit` for cached Hub files; the path otherwise. */
  label: string;
}

function pullHint(model: string): string {
  return `Fetch it with: atomr-infer pull --model ${model} --runtime llama-cpp`;
}

/**
 * Finds the GGUF file a weight source names: a local path, or a file in the Hugging Face cache (never the
 * network: fetching is `pull`'s job). Missing weights are a ModelError whose hint is the command that fetches them.
 */
export function resolveGgufWeights(
  model: string,
  source: WeightSource,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedWeights {
  if (source.kind === 'runtime-managed') {
    throw new ModelError(
      `the llama.cpp runner loads GGUF files, not runtime-managed weights ("${source.id}")`,
      {
        hint: 'Give a local .gguf path or a Hugging Face GGUF repo.',
      },
    );
  }
  if (source.kind === 'local-path') {
    const path = resolve(source.path);
    const found = modelPathKind(path);
    if (found.kind === 'missing') {
      throw new ModelError(`model file ${path} does not exist`, {
        code: 'model-missing',
        hint: 'Check the path, or use a catalog model id (atomr-infer pull fetches those).',
      });
    }
    // Never opened: a FIFO would block the process (see model-file.ts).
    if (found.kind === 'other') {
      throw new ModelError(`model file ${path} ${notARegularFile(found)}: expected a .gguf file`, {
        code: 'model-file-invalid',
        hint: 'Point --model / ATOMR_INFER_GEMMA_GGUF / the deployment at a .gguf file.',
      });
    }
    return { path, label: path };
  }
  const cacheDir = hfHubCacheDir(env);
  const spec: GgufSpec =
    source.file !== undefined
      ? { kind: 'hf-file', repo: source.repo, file: source.file }
      : catalogQuants(model, source.repo);
  const located = locateGguf(spec, cacheDir, source.revision ?? 'main');
  if (!located) {
    const what =
      source.file !== undefined
        ? `${source.repo}/${source.file}`
        : `a ${spec.kind === 'hf-quant' ? spec.quant + ' ' : ''}GGUF of ${source.repo}`;
    throw new ModelError(`${model}: ${what} is not in the Hugging Face cache (${cacheDir})`, {
      code: 'model-not-cached',
      hint: pullHint(model),
    });
  }
  return {
    path: located.path,
    label: `${located.repo}/${located.file}${located.commit ? `@${located.commit.slice(0, 10)}` : ''}`,
  };
}

/**
 * The catalog's quant preference chain for a GGUF repo (the catalog's own, or any other the user named, such as
 * Google's QAT repo); a non-catalog model takes any GGUF (the empty quant matches every name).
 */
function catalogQuants(model: string, repo: string): GgufSpec {
  if (isVariantId(model)) return quantSpec(repo);
  return { kind: 'hf-quant', repo, quant: '', quants: [''] };
}
