import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import { createRunner } from '../../../src/runners/index.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

/**
 * Thinking on the real llama.cpp runner: Gemma 4's chat format turns it on with `<|think|>` in the system turn
 * (a longer prompt); a random-weight model never opens a thought channel itself, so its answer stays the answer.
 * Formats without thinking refuse it rather than ignore it.
 */
let gemma4: ModelRunner;
let gemma3: ModelRunner;

beforeAll(async () => {
  const make = async (arch: 'gemma3' | 'gemma4') =>
    createRunner({
      runtime: 'llama-cpp',
      model: `tiny-${arch}`,
      weights: { kind: 'local-path', path: await writeTinyGguf({ arch, seed: 4, endOfTurn: 'never' }) },
      settings: { threads: 1, contextSize: 512 },
    });
  gemma4 = await make('gemma4');
  gemma3 = await make('gemma3');
});

afterAll(async () => {
  await gemma4?.dispose();
  await gemma3?.dispose();
});

const batch = (thinking: boolean): ExecuteBatch => ({
  requestId: `t-${thinking}`,
  model: 'tiny',
  messages: [{ role: 'user', content: 'Hello there' }],
  sampling: { maxTokens: 6, seed: 1, temperature: 0 },
  stream: true,
  ...(thinking ? { thinking: true } : {}),
});

async function run(runner: ModelRunner, thinking: boolean): Promise<TokenChunk[]> {
  const chunks: TokenChunk[] = [];
  for await (const chunk of runner.execute(batch(thinking))) chunks.push(chunk);
  return chunks;
}

describe('llama.cpp runner: thinking', () => {
  it('Gemma 4: thinking on renders <|think|> into the prompt (more prompt tokens) and still answers', async () => {
    const off = await run(gemma4, false);
    const on = await run(gemma4, true);
    expect(on.at(-1)?.usage?.input).toBeGreaterThan(off.at(-1)?.usage?.input ?? Infinity);
    expect(on.map((c) => c.textDelta).join('').length).toBeGreaterThan(0);
    expect(on.at(-1)?.finishReason).toBe('length');
    // Thought tokens are counted when thinking is on (none here: the model never opened a thought).
    expect(on.at(-1)?.usage?.reasoning).toBe(0);
    expect(off.at(-1)?.usage?.reasoning).toBeUndefined();
  });

  it('a chat format without thinking (Gemma 3) refuses it: unsupported_thinking, exit 2', async () => {
    await expect(run(gemma3, true)).rejects.toMatchObject({ code: 'unsupported_thinking', exitCode: 2 });
  });
});
