import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedSafetensorsBytes, inspectWeights } from '../../src/probe/weights-facts.js';

let cache: string;
const COMMIT = 'c'.repeat(40);
const GiB = 1024 ** 3;

/** Writes a file into the HF cache layout: refs/main → COMMIT, snapshots/COMMIT/<file> (sparse when sized). */
function cached(repo: string, file: string, bytes = 16): string {
  const root = join(cache, `models--${repo.replace('/', '--')}`);
  mkdirSync(join(root, 'refs'), { recursive: true });
  writeFileSync(join(root, 'refs', 'main'), COMMIT);
  const path = join(root, 'snapshots', COMMIT, file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, 'x');
  truncateSync(path, bytes);
  return path;
}

beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'atomr-hub-'));
});
afterEach(() => rmSync(cache, { recursive: true, force: true }));

describe('vLLM weights in the cache', () => {
  const repo = 'google/gemma-4-E2B-it';

  it('counts a single-file snapshot with its config as cached, with its real size', () => {
    cached(repo, 'config.json');
    cached(repo, 'model.safetensors', 3 * GiB);
    expect(cachedSafetensorsBytes(cache, repo)).toBe(3 * GiB);
  });

  it('needs every shard the index names', () => {
    cached(repo, 'config.json');
    cached(repo, 'model.safetensors.index.json');
    writeFileSync(
      join(cache, 'models--google--gemma-4-E2B-it', 'snapshots', COMMIT, 'model.safetensors.index.json'),
      JSON.stringify({
        weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
      }),
    );
    cached(repo, 'model-00001-of-00002.safetensors', GiB);
    expect(cachedSafetensorsBytes(cache, repo)).toBeUndefined();
    cached(repo, 'model-00002-of-00002.safetensors', GiB);
    expect(cachedSafetensorsBytes(cache, repo)).toBe(2 * GiB);
  });

  it('does not count a snapshot without config.json, or a shard whose blob is gone', () => {
    cached(repo, 'model.safetensors', GiB);
    expect(cachedSafetensorsBytes(cache, repo)).toBeUndefined();
    cached(repo, 'config.json');
    const dangling = join(cache, 'models--google--gemma-4-E2B-it', 'snapshots', COMMIT, 'extra.safetensors');
    symlinkSync(join(cache, 'blobs', 'deleted'), dangling);
    expect(cachedSafetensorsBytes(cache, repo)).toBe(GiB);
  });
});

describe('inspectWeights', () => {
  it('uses the catalog estimates when nothing is cached, and Hub sizes when given', () => {
    const estimate = inspectWeights('google/gemma-4-E4B-it', undefined, cache);
    expect(estimate.vllm).toMatchObject({ cached: false, sizeSource: 'estimate' });
    expect(estimate.gguf).toMatchObject({
      cached: false,
      label: 'hf:ggml-org/gemma-4-E4B-it-GGUF',
      // The catalog's real bytes: ggml-org's Q4_K_M 5,335,289,824 B; the BF16 safetensors 15,992,595,884 B.
      sizeGiB: 4.97,
      sizeSource: 'estimate',
    });
    expect(estimate.vllm.sizeGiB).toBe(14.89);
    const hub = inspectWeights('google/gemma-4-E4B-it', undefined, cache, { ggufBytes: 5 * GiB });
    expect(hub.gguf).toMatchObject({ sizeGiB: 5, sizeSource: 'hub' });
  });

  it('finds the cached GGUF for the quant and measures it', () => {
    const path = cached('ggml-org/gemma-4-E2B-it-GGUF', 'gemma-4-E2B-it-Q4_K_M.gguf', 2 * GiB);
    cached('ggml-org/gemma-4-E2B-it-GGUF', 'mmproj-gemma-4-E2B-it-Q4_K_M.gguf', GiB);
    const facts = inspectWeights('google/gemma-4-E2B-it', undefined, cache);
    expect(facts.gguf).toMatchObject({ cached: true, path, sizeGiB: 2, sizeSource: 'measured' });
  });

  it('takes the first quant of the preference chain the repo has (no Q4_K_M: Q4_0), never a projector or drafter', () => {
    const path = cached('ggml-org/gemma-4-E2B-it-GGUF', 'gemma-4-E2B-it-Q4_0.gguf', 2 * GiB);
    cached('ggml-org/gemma-4-E2B-it-GGUF', 'gemma-4-E2B-it-Q8_0.gguf', 3 * GiB);
    cached('ggml-org/gemma-4-E2B-it-GGUF', 'mmproj-gemma-4-E2B-it-Q4_K_M.gguf', GiB);
    cached('ggml-org/gemma-4-E2B-it-GGUF', 'mtp-gemma-4-E2B-it-Q4_K_M.gguf', GiB);
    const facts = inspectWeights('google/gemma-4-E2B-it', undefined, cache);
    expect(facts.gguf).toMatchObject({
      cached: true,
      path,
      label: 'hf:ggml-org/gemma-4-E2B-it-GGUF/gemma-4-E2B-it-Q4_0.gguf',
    });
  });

  it('sizes Google’s QAT GGUF from the catalog when ATOMR_INFER_GEMMA_GGUF names it', () => {
    const qat = 'hf:google/gemma-4-E4B-it-qat-q4_0-gguf/gemma-4-E4B_q4_0-it.gguf';
    const facts = inspectWeights('google/gemma-4-E4B-it', qat, cache);
    // 5,154,941,280 B
    expect(facts.gguf).toMatchObject({ label: qat, sizeGiB: 4.8, sizeSource: 'estimate', cached: false });
  });

  it('follows ATOMR_INFER_GEMMA_GGUF, and flags a local path that does not exist', () => {
    const missing = inspectWeights('google/gemma-4-E2B-it', join(cache, 'nope.gguf'), cache);
    expect(missing.gguf).toMatchObject({
      cached: false,
      missingLocal: true,
      label: join(cache, 'nope.gguf'),
    });
    const local = join(cache, 'mine.gguf');
    writeFileSync(local, 'x');
    truncateSync(local, GiB);
    expect(inspectWeights('google/gemma-4-E2B-it', local, cache).gguf).toMatchObject({
      cached: true,
      path: local,
      sizeGiB: 1,
    });
    expect(inspectWeights('google/gemma-4-E2B-it', 'hf:me/my-GGUF:Q8_0', cache).gguf.label).toBe(
      'hf:me/my-GGUF:Q8_0',
    );
  });
});
