import type { TokenChunk, TokenUsage } from '../../core/model-runner.js';

/**
 * One request's chunks, in order, from the engine loop to the `execute` generator that streams them. The loop
 * pushes; the consumer pulls at its own pace (chunks queue up if it is slower than the engine).
 */
export class RequestStream {
  /** Latest counts the engine reported, so an abort can still say how much was used. */
  usage: TokenUsage = { input: 0, output: 0, cached: 0 };
  private readonly queue: TokenChunk[] = [];
  private waiter:
    { resolve: (chunk: TokenChunk | undefined) => void; reject: (error: unknown) => void } | undefined;
  private ended = false;
  private failure: unknown;

  constructor(
    readonly requestId: string,
    private readonly onCancel: (stream: RequestStream) => void,
  ) {}

  get finished(): boolean {
    return this.ended;
  }

  push(chunk: TokenChunk): void {
    if (this.ended) return;
    if (chunk.finishReason !== undefined) this.ended = true;
    if (this.waiter) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(chunk);
    } else {
      this.queue.push(chunk);
    }
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiter) {
      const { reject } = this.waiter;
      this.waiter = undefined;
      reject(error);
    }
  }

  /** Ends the stream now with finishReason `abort`; the engine hears about it at its next step boundary. */
  cancel(): void {
    if (this.ended) return;
    this.onCancel(this);
    this.push({ requestId: this.requestId, textDelta: '', finishReason: 'abort', usage: { ...this.usage } });
  }

  /** The next chunk, or `undefined` once the final chunk has been taken. */
  next(): Promise<TokenChunk | undefined> {
    const chunk = this.queue.shift();
    if (chunk) return Promise.resolve(chunk);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
}
