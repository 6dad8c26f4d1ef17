import { describe, expect, it } from 'vitest';
import { Channel } from '../../../src/runners/llamacpp/channel.js';

describe('Channel (node-llama-cpp callbacks → the runner stream)', () => {
  it('the first piece reaches a waiting consumer at once; later ones after the microtasks that follow a push', async () => {
    const channel = new Channel<string>();
    const order: string[] = [];
    // node-llama-cpp queues the next token's decode a few microtasks after the text callback.
    const nextDecodeQueued = (): void =>
      void Promise.resolve()
        .then(() => undefined)
        .then(() => order.push('next decode queued'));

    const first = channel.next().then((next) => order.push(`consumer:${next.value}`));
    channel.push('first');
    nextDecodeQueued();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    // The time to first token is not delayed...
    expect(order).toEqual(['consumer:first', 'next decode queued']);

    order.length = 0;
    const second = channel.next().then((next) => order.push(`consumer:${next.value}`));
    channel.push('second');
    nextDecodeQueued();
    await second;
    // ...and every later token's consumer runs once the next decode is on its way.
    expect(order).toEqual(['next decode queued', 'consumer:second']);
  });

  it('delivers every piece in order, then done once closed, however they were pushed', async () => {
    const channel = new Channel<string>();
    const received: string[] = [];
    const reading = (async () => {
      for (;;) {
        const next = await channel.next();
        if (next.done) return;
        received.push(next.value, ...channel.drain());
      }
    })();
    channel.push('a');
    channel.push('b');
    await new Promise((resolve) => setImmediate(resolve));
    channel.push('c');
    channel.close();
    channel.push('after close');
    await reading;
    expect(received).toEqual(['a', 'b', 'c']);
  });

  it('a consumer waiting when the channel closes gets done', async () => {
    const channel = new Channel<number>();
    const next = channel.next();
    channel.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });
});
