import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGgufHeader, metadataString } from '../../../src/runners/llamacpp/gguf/header.js';
import { preflightGguf } from '../../../src/runners/llamacpp/gguf/preflight.js';
import {
  buildTinyGguf,
  GEMMA3_CHAT_TEMPLATE,
  SPECIAL_TOKENS,
  tinyVocabulary,
  writeTinyGguf,
} from '../../helpers/gguf/index.mjs';

const dir = mkdtempSync(join(tmpdir(), 'atomr-gguf-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('test GGUF generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = buildTinyGguf({ arch: 'gemma3', seed: 7 });
    const b = buildTinyGguf({ arch: 'gemma3', seed: 7 });
    const c = buildTinyGguf({ arch: 'gemma3', seed: 8 });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    // Same layout (only weights change), a few hundred KB.
    expect(c.length).toBe(a.length);
    expect(a.length).toBeGreaterThan(100_000);
    expect(a.length).toBeLessThan(1_000_000);
  });

  it('writes the keys and tensors llama.cpp requires for each architecture', async () => {
    for (const arch of ['gemma3', 'gemma4'] as const) {
      const path = await writeTinyGguf({ arch, seed: 1, path: join(dir, `${arch}.gguf`) });
      const header = readGgufHeader(path);
      expect(metadataString(header, 'general.architecture')).toBe(arch);
      const names = header.tensors.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(['token_embd.weight', 'output_norm.weight', 'blk.1.ffn_down.weight']),
      );
      if (arch === 'gemma4') {
        expect(names).toContain('rope_freqs.weight');
        expect(header.metadata.get('gemma4.attention.sliding_window_pattern')).toMatchObject({
          kind: 'array',
          length: 2,
        });
      }
      expect(preflightGguf(path).architecture).toBe(arch);
    }
  });

  it('carries Gemma special tokens and a Gemma chat template; base models carry no template', () => {
    const tokens = tinyVocabulary();
    for (const special of Object.values(SPECIAL_TOKENS)) expect(tokens[special.id]).toBe(special.text);
    expect(new Set(tokens).size).toBe(tokens.length);
    const itPath = join(dir, 'it.gguf');
    const basePath = join(dir, 'base.gguf');
    return Promise.all([
      writeTinyGguf({ arch: 'gemma3', path: itPath }),
      writeTinyGguf({ arch: 'gemma3', path: basePath, instructionTuned: false }),
    ]).then(() => {
      expect(preflightGguf(itPath).chatTemplate).toBe(GEMMA3_CHAT_TEMPLATE);
      expect(preflightGguf(basePath).chatTemplate).toBeUndefined();
    });
  });
});
