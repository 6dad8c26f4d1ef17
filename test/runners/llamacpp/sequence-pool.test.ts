import { describe, expect, it } from 'vitest';
import { SequencePool } from '../../../src/runners/llamacpp/sequence-pool.js';

/** A slot with a KV state: `tokens` > 0 means it still holds an earlier request's tokens. */
interface Slot {
  id: number;
  tokens: number;
}

function pool(count: number, clear?: (slot: Slot) => Promise<void>) {
  const slots = Array.from({ length: count }, (_, id) => ({ id, tokens: 0 }));
  const cleared: number[] = [];
  const instance = new SequencePool<Slot>(slots, {
    holdsState: (slot) => slot.tokens > 0,
    clear:
      clear ??
      ((slot) => {
        cleared.push(slot.id);
        slot.tokens = 0;
        return Promise.resolve();
      }),
  });
  return { instance, slots, cleared };
}

describe('SequencePool (serve slots)', () => {
  it('hands slots out lowest id first, so the active sequence ids stay consecutive', async () => {
    const { instance } = pool(4);
    const a = await instance.acquire();
    const b = await instance.acquire();
    const c = await instance.acquire();
    expect([a.id, b.id, c.id]).toEqual([0, 1, 2]);
    instance.release(b);
    // The freed middle slot goes out again before slot 3: ids 0, 1, 2 busy, not 0, 2, 3.
    expect((await instance.acquire()).id).toBe(1);
    expect(instance.busy).toBe(3);
  });

  it('clears a slot released while others still run, before anyone gets it', async () => {
    let finishClear!: () => void;
    const { instance, slots } = pool(2, (slot) => {
      return new Promise<void>((resolve) => {
        finishClear = () => {
          slot.tokens = 0;
          resolve();
        };
      });
    });
    const a = await instance.acquire();
    const b = await instance.acquire();
    a.tokens = 50;
    b.tokens = 70;
    instance.release(b); // a still runs: b is cleared off the next request's path
    let got: Slot | undefined;
    const waiting = instance.acquire().then((slot) => (got = slot));
    await Promise.resolve();
    expect(got).toBeUndefined(); // not handed out half-cleared
    finishClear();
    await waiting;
    expect(got).toBe(slots[1]);
    expect(got?.tokens).toBe(0);
  });

  it('a slot released when nothing else runs keeps its tokens and goes out first (prefix reuse)', async () => {
    const { instance, cleared } = pool(3);
    const a = await instance.acquire();
    const b = await instance.acquire();
    b.tokens = 40;
    instance.release(a); // b still runs, a holds nothing: nothing to clear
    instance.release(b); // the last one: keeps its tokens
    expect(cleared).toEqual([]);
    // Nothing runs: the slot that holds a conversation is handed out first, though a lower id is free.
    expect((await instance.acquire()).id).toBe(1);
    // Something runs now: the lowest free slot, not one that would need an erase.
    expect((await instance.acquire()).id).toBe(0);
  });

  it('a failed clear still gives the slot back (never a lost slot)', async () => {
    const { instance } = pool(2, () => Promise.reject(new Error('context disposed')));
    const a = await instance.acquire();
    const b = await instance.acquire();
    b.tokens = 5;
    instance.release(b);
    const next = await instance.acquire();
    expect(next.id).toBe(1);
    instance.release(a);
  });
});
