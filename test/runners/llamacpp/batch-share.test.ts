import type { BatchItem } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { DecodeBatcher, MAX_EMPTY_TURNS, shareBatch } from '../../../src/runners/llamacpp/batching.js';

const item = (tokens: number): BatchItem => ({
  tokens: Array.from({ length: tokens }, (_, i) => i) as never,
  logits: [],
  evaluationPriority: 5,
});

describe('batch building (serve)', () => {
  it('every decode step gets its slot; a long prompt gets what is left, never more than the batch', () => {
    const decodes = [item(1), item(1), item(1)];
    const prompt = item(900);
    const shares = shareBatch([...decodes, prompt], 512);
    expect(shares.map((s) => s.processAmount)).toEqual([1, 1, 1, 509]);
    expect(shares.reduce((sum, s) => sum + s.processAmount, 0)).toBe(512);
  });

  it('two long prompts share the batch instead of one waiting for the other', () => {
    const shares = shareBatch([item(400), item(400)], 512);
    expect(shares.map((s) => s.processAmount)).toEqual([256, 256]);
  });

  it('keeps the order it is given (the sequence-id order)', () => {
    const items = [item(1), item(2), item(3)];
    expect(shareBatch(items, 512).map((s) => s.item)).toEqual(items);
  });

  it('waits for every generating sequence, but only for a bounded number of turns', () => {
    const batcher = new DecodeBatcher();
    for (let i = 0; i < 3; i++) batcher.generationStarted();
    const two = [item(1), item(1)];
    for (let turn = 0; turn < MAX_EMPTY_TURNS; turn++) expect(batcher.prioritize(two, 512)).toEqual([]);
    // The third sequence did not come (it finished, or waits on something else): go on without it.
    expect(batcher.prioritize(two, 512)).toHaveLength(2);
    // All three queued: no waiting at all.
    expect(batcher.prioritize([item(1), item(1), item(1)], 512)).toHaveLength(3);
    expect(batcher.stats).toMatchObject({ batches: 2, emptyTurns: MAX_EMPTY_TURNS });
  });
});
