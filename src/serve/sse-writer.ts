import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Writes one server-sent-events response. A frame goes out at once when the stream has been quiet for
 * FLUSH_INTERVAL_MS (so the first token is never delayed); frames that follow faster than that are gathered
 * and leave together, one socket write per interval. Profiling `serve` on a fast model showed the per-token
 * chunked write (writev) as the largest cost after decoding itself; 10 ms is far below what a reader or a UI
 * can notice. A backed-up socket (slow client) makes `send` wait for `drain`; a closed one makes every call a
 * no-op.
 */

const FLUSH_INTERVAL_MS = 10;

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Reverse proxies (nginx) must not buffer a token stream.
  'x-accel-buffering': 'no',
};

/**
 * A stream has no length. HTTP/1.1 delimits it by chunking and keeps the socket; HTTP/1.0 knows no chunking, so
 * the end of the stream can only be the end of the connection (as llama-server and nginx answer 1.0 clients).
 * During shutdown fastify has already asked for `close`; keep it.
 */
function connectionHeader(res: ServerResponse): 'close' | 'keep-alive' {
  const request = res.req;
  if (request.httpVersionMajor === 1 && request.httpVersionMinor === 0) return 'close';
  return String(res.getHeader('connection') ?? '').toLowerCase() === 'close' ? 'close' : 'keep-alive';
}

const DONE = Promise.resolve();

export class SseWriter {
  private readonly res: ServerResponse;
  private pending = '';
  private scheduled = false;
  private lastFlush = 0;
  private opened = false;
  private drained: Promise<void> | undefined;

  constructor(private readonly reply: FastifyReply) {
    this.res = reply.raw;
  }

  /** True once the 200 status line and headers are committed: errors must then travel as events. */
  get isOpen(): boolean {
    return this.opened;
  }

  /** Queues frames; resolves at once unless the client is not keeping up. */
  send(frames: string): Promise<void> {
    this.open();
    this.pending += frames;
    if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastFlush + FLUSH_INTERVAL_MS - performance.now();
      // Even "at once" waits for the end of this event-loop turn, so tokens decoded together leave together.
      if (wait <= 0) setImmediate(this.flush);
      else setTimeout(this.flush, wait);
    }
    return this.drained ?? DONE;
  }

  /** Writes what is queued plus `frames` and ends the response. */
  end(frames: string): void {
    this.open();
    this.pending += frames;
    this.flush();
    if (!this.res.writableEnded) this.res.end();
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.reply.hijack();
    const connection = connectionHeader(this.res);
    // `shouldKeepAlive` is what node acts on at the end of the response; the header only tells the client.
    if (connection === 'close') this.res.shouldKeepAlive = false;
    this.res.writeHead(200, { ...SSE_HEADERS, connection });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    this.lastFlush = performance.now();
    const text = this.pending;
    this.pending = '';
    if (text === '' || this.res.destroyed || this.res.writableEnded) return;
    if (this.res.write(text) || this.drained) return;
    this.drained = new Promise<void>((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        this.drained = undefined;
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  };
}
