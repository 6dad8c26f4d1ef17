import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecuteBatch, TokenChunk } from '../../../src/core/model-runner.js';
import { createLlamaCppRunner } from '../../../src/runners/llamacpp/index.js';
import type { LlamaCppRunner } from '../../../src/runners/llamacpp/runner.js';
import { writeTinyGguf } from '../../helpers/gguf/index.mjs';

/**
 * `serve`'s parallel sequences on the real llama.cpp runner (a tiny random-weight GGUF that never ends a turn on
 * its own, so every answer runs to max tokens): decoded together, and no request waiting behind another's answer.
 */
let runner: LlamaCppRunner;
let counter = 0;

beforeAll(async () => {
  const path = await writeTinyGguf({ arch: 'gemma4', seed: 21, endOfTurn: 'never' });
  runner = (await createLlamaCppRunner({
    runtime: 'llama-cpp',
    model: 'tiny',
    weights: { kind: 'local-path', path },
    settings: { threads: 1, contextSize: 1024, sequences: 4 },
  })) as LlamaCppRunner;
}, 60_000);

afterAll(async () => {
  await runner?.dispose();
});

function request(maxTokens: number): ExecuteBatch {
  return {
    requestId: `b${++counter}`,
    model: 'tiny',
    messages: [{ role: 'user', content: `Tell me story ${counter}` }],
    sampling: { maxTokens, seed: counter },
    stream: true,
  };
}

async function drain(stream: AsyncIterable<TokenChunk>): Promise<TokenChunk> {
  let last: TokenChunk | undefined;
  for await (const chunk of stream) last = chunk;
  return last!;
}

describe('llama.cpp runner: parallel sequences', () => {
  it('decodes every running sequence in each batch, in sequence-id order', async () => {
    const before = { ...runner.batchingStats! };
    const TOKENS = 80;
    const finals = await Promise.all(Array.from({ length: 4 }, () => drain(runner.execute(request(TOKENS)))));
    expect(finals.map((chunk) => chunk.usage?.output)).toEqual([TOKENS, TOKENS, TOKENS, TOKENS]);
    const stats = runner.batchingStats!;
    const batches = stats.batches - before.batches;
    // One batch per token step carrying all four (plus the prompts), not 3 of 4 with a laggard a step behind:
    // node-llama-cpp's own strategy needs ~4/3 as many batches here.
    expect(batches).toBeLessThanOrEqual(TOKENS + 12);
    // The sequence id of every batch item was found (node-llama-cpp still keeps its queue as batching.ts reads it).
    expect(stats.unordered - before.unordered).toBe(0);
  });

  it('a request arriving while others stream starts at once, on slots that served earlier requests', async () => {
    // Four earlier requests leave every slot having held tokens.
    await Promise.all([20, 30, 40, 50].map((tokens) => drain(runner.execute(request(tokens)))));
    const events: string[] = [];
    let late: Promise<void> | undefined;
    const longAnswer = async (name: string): Promise<void> => {
      let first = true;
      for await (const chunk of runner.execute(request(700))) {
        if (first && chunk.textDelta) {
          first = false;
          events.push(`${name}: first token`);
          // Once both long answers stream, one more request comes in.
          if (events.filter((event) => event.endsWith('first token')).length === 2) {
            late = (async () => {
              for await (const piece of runner.execute(request(5))) {
                if (piece.textDelta && !events.includes('late: first token'))
                  events.push('late: first token');
              }
            })();
          }
        }
        if (chunk.finishReason) events.push(`${name}: finished`);
      }
    };
    await Promise.all([longAnswer('long 1'), longAnswer('long 2')]);
    await late;
    // Before the fix the late request's slot was erased under the context lock, which node-llama-cpp's decode
    // loop holds while any sequence decodes: its first token came only after both long answers had ended.
    expect(events).toContain('late: first token');
    expect(events.indexOf('late: first token')).toBeLessThan(events.indexOf('long 1: finished'));
    expect(events.indexOf('late: first token')).toBeLessThan(events.indexOf('long 2: finished'));
  });

  it('rolling load: a client whose answer ended gets its next request going while other answers stream', async () => {
    // The installed node-llama-cpp carries the decode-loop patch (postinstall): without it this test fails.
    expect(runner.batchingStats?.yieldsContextLock).toBe(true);
    const events: string[] = [];
    const longAnswer = async (): Promise<void> => {
      for await (const chunk of runner.execute(request(900))) {
        if (chunk.finishReason) events.push('long: finished');
      }
    };
    const long = Promise.all([longAnswer(), longAnswer()]);
    // The same client, back to back: its slot must be erased (others run) before its next request can have it.
    for (let k = 0; k < 6; k++) {
      let first = true;
      for await (const chunk of runner.execute(request(20))) {
        if (first && chunk.textDelta) {
          first = false;
          events.push(`client request ${k}: first token`);
        }
      }
    }
    await long;
    expect(events.indexOf('client request 5: first token')).toBeGreaterThanOrEqual(0);
    expect(events.indexOf('client request 5: first token')).toBeLessThan(events.indexOf('long: finished'));
  });
});
