import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeRepo } from '../fakes/hub/fake-hub.js';

/** Deterministic-size random content: tests compare checksums, never hard-coded bytes. */
export function bytes(size: number): Buffer {
  return randomBytes(size);
}

export const VLLM_REPO = 'google/gemma-4-E2B-it';
export const GGUF_REPO = 'ggml-org/gemma-4-E2B-it-GGUF';
export const GGUF_FILE = 'gemma-4-E2B-it-Q4_K_M.gguf';

export function vllmRepo(overrides: Partial<FakeRepo> = {}): FakeRepo {
  return {
    id: VLLM_REPO,
    files: [
      { path: 'config.json', content: Buffer.from('{"model_type":"gemma4"}') },
      { path: 'generation_config.json', content: Buffer.from('{"do_sample":true}') },
      { path: 'tokenizer.json', content: bytes(40_000), lfs: false },
      { path: 'chat_template.jinja', content: Buffer.from('{{ messages }}') },
      { path: 'model.safetensors', content: bytes(3_000_000) },
      { path: 'README.md', content: Buffer.from('# readme') },
      { path: 'original/consolidated.pth', content: bytes(1000), lfs: true },
    ],
    ...overrides,
  };
}

export function ggufRepo(overrides: Partial<FakeRepo> = {}, size = 2_000_000): FakeRepo {
  return {
    id: GGUF_REPO,
    files: [
      { path: GGUF_FILE, content: bytes(size) },
      { path: 'gemma-4-E2B-it-Q8_0.gguf', content: bytes(50_000) },
      { path: 'mmproj-gemma-4-E2B-it-Q4_K_M.gguf', content: bytes(10_000) },
      { path: 'README.md', content: Buffer.from('# gguf') },
    ],
    ...overrides,
  };
}

export interface TempHome {
  dir: string;
  cacheDir: string;
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** A throwaway HF_HOME / HF_HUB_CACHE / ATOMR_INFER_HOME so no test touches the real caches or token. */
export async function tempHome(endpoint: string): Promise<TempHome> {
  const dir = await mkdtemp(join(tmpdir(), 'atomr-hub-'));
  const cacheDir = join(dir, 'hub');
  return {
    dir,
    cacheDir,
    env: (extra = {}) => ({
      PATH: process.env.PATH ?? '',
      HOME: dir,
      HF_HOME: join(dir, 'hf-home'),
      HF_HUB_CACHE: cacheDir,
      HF_ENDPOINT: endpoint,
      ATOMR_INFER_HOME: join(dir, 'state'),
      ...extra,
    }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
