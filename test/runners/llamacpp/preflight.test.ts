import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../../src/core/errors.js';
import { ExitCode } from '../../../src/core/exit-codes.js';
import { repoFolderName } from '../../../src/hub/cache-layout.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import { preflightGguf } from '../../../src/runners/llamacpp/gguf/preflight.js';
import { buildTinyGguf, writeMalformedGguf, type MalformedKind } from '../../helpers/gguf/index.mjs';

const dir = mkdtempSync(join(tmpdir(), 'atomr-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the one-line error must say for each kind of broken file. */
const EXPECTED: Record<MalformedKind, RegExp> = {
  empty: /is empty \(0 bytes\)/,
  text: /is a text file \("This is a README/,
  'bad-magic': /old GGML-format model/,
  'bad-version': /GGUF version 99; llama\.cpp reads versions 2 and 3/,
  'truncated-header': /but the file ends \d+ bytes later/,
  'truncated-data': /tensor ".+" data ends at byte \d+, past the end of the \d+-byte file/,
  'tensor-count': /claims 1099511627776 tensors .* more than a \d+-byte file can hold/,
  'kv-count': /claims \d+ tensors and 1099511627776 metadata entries/,
  'string-length': /metadata key #0 needs 1125899906842624 bytes/,
  'missing-key': /missing the metadata key "gemma3\.embedding_length"/,
  'unsupported-architecture': /is a "not-a-real-arch" model; atomr-infer runs Gemma models/,
  'duplicate-token': /corrupt vocabulary: tokens #\d+ and #\d+ are both/,
  'tensor-out-of-file': /tensor ".+" data ends at byte \d+, past the end/,
};

function localSpec(path: string) {
  return {
    runtime: 'llama-cpp' as const,
    model: 'tiny',
    weights: { kind: 'local-path' as const, path },
    settings: {},
  };
}

describe('preflight: every malformed file is a clear ModelError in well under 2 s, and the process lives on', () => {
  for (const [kind, pattern] of Object.entries(EXPECTED) as Array<[MalformedKind, RegExp]>) {
    it(kind, async () => {
      const path = await writeMalformedGguf({ kind, path: join(dir, `${kind}.gguf`) });
      const started = performance.now();
      const error = await createLlamaCppRunner(localSpec(path)).catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(ModelError);
      const modelError = error as ModelError;
      expect(modelError.exitCode).toBe(ExitCode.Model);
      expect(modelError.message).toMatch(new RegExp(`^${basename(path)} `));
      expect(modelError.message).toMatch(pattern);
      expect(modelError.message).not.toContain('\n');
      expect(modelError.hint).toBeTruthy();
      expect(elapsed).toBeLessThan(2_000);
    });
  }

  it('reports a missing file and a directory by name', async () => {
    const missing = await createLlamaCppRunner(localSpec(join(dir, 'nope.gguf'))).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModelError);
    expect((missing as Error).message).toMatch(/nope\.gguf does not exist/);
    const folder = join(dir, 'folder.gguf');
    mkdirSync(folder);
    expect(() => preflightGguf(folder)).toThrow(
      /^folder\.gguf is a directory, not a regular file: expected a \.gguf file$/,
    );
  });

  it.runIf(process.platform !== 'win32')(
    'refuses a FIFO without opening it (opening would block until a writer came)',
    async () => {
      const fifo = join(dir, 'pipe.gguf');
      execFileSync('mkfifo', [fifo]);
      expect(() => preflightGguf(fifo)).toThrow(
        /^pipe\.gguf is a FIFO \(named pipe\), not a regular file: expected a \.gguf file$/,
      );
      const viaRunner = await createLlamaCppRunner(localSpec(fifo)).catch((e: unknown) => e);
      expect(viaRunner).toBeInstanceOf(ModelError);
      expect((viaRunner as Error).message).toBe(
        `model file ${fifo} is a FIFO (named pipe), not a regular file: expected a .gguf file`,
      );
    },
  );
});

describe('preflight: a good file', () => {
  it('passes and reports what the runner needs', () => {
    const path = join(dir, 'good.gguf');
    writeFileSync(path, buildTinyGguf({ arch: 'gemma4', seed: 3 }));
    const facts = preflightGguf(path);
    expect(facts).toMatchObject({
      architecture: 'gemma4',
      blockCount: 2,
      contextLength: 8192,
      fileSize: statSync(path).size,
    });
    expect(facts.chatTemplate).toContain('<|turn>');
    expect(facts.tokenCount).toBeGreaterThan(500);
  });

  it('reads a base model as having no chat template', () => {
    const path = join(dir, 'base.gguf');
    writeFileSync(path, buildTinyGguf({ arch: 'gemma3', instructionTuned: false }));
    expect(preflightGguf(path).chatTemplate).toBeUndefined();
  });
});

describe('weights from the Hugging Face cache', () => {
  const cache = join(dir, 'hf-cache');
  const previous = process.env.HF_HUB_CACHE;
  afterAll(() => {
    if (previous === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = previous;
  });

  it('a catalog model that is not cached is a ModelError naming the pull command', async () => {
    process.env.HF_HUB_CACHE = cache;
    const error = await createLlamaCppRunner({
      runtime: 'llama-cpp',
      model: 'google/gemma-4-E2B-it',
      weights: { kind: 'huggingface', repo: 'ggml-org/gemma-4-E2B-it-GGUF' },
      settings: {},
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).message).toMatch(
      /google\/gemma-4-E2B-it: a Q4_K_M, Q4_0, Q5_K_M or Q8_0 GGUF of ggml-org\/gemma-4-E2B-it-GGUF is not in the Hugging Face cache/,
    );
    expect((error as ModelError).hint).toBe(
      'Fetch it with: atomr-infer pull --model google/gemma-4-E2B-it --runtime llama-cpp',
    );
  });

  it('a cached file is found through refs/main → snapshot → blob and loads', async () => {
    process.env.HF_HUB_CACHE = cache;
    const repo = 'ggml-org/gemma-4-E2B-it-GGUF';
    const commit = 'a'.repeat(40);
    const root = join(cache, repoFolderName(repo));
    mkdirSync(join(root, 'refs'), { recursive: true });
    mkdirSync(join(root, 'blobs'), { recursive: true });
    mkdirSync(join(root, 'snapshots', commit), { recursive: true });
    writeFileSync(join(root, 'refs', 'main'), commit);
    writeFileSync(join(root, 'blobs', 'b1'), buildTinyGguf({ arch: 'gemma4', seed: 5 }));
    symlinkSync(join(root, 'blobs', 'b1'), join(root, 'snapshots', commit, 'gemma-4-E2B-it-Q4_K_M.gguf'));
    const runner = await createLlamaCppRunner({
      runtime: 'llama-cpp',
      model: 'google/gemma-4-E2B-it',
      weights: { kind: 'huggingface', repo },
      settings: { threads: 1, gpu: false, contextSize: 256 },
    });
    try {
      expect(runner.describe()).toMatchObject({
        model: 'google/gemma-4-E2B-it',
        mode: 'chat',
        contextSize: 256,
      });
    } finally {
      await runner.dispose();
    }
  });
});
