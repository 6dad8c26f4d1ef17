import type { FileHandle } from 'node:fs/promises';

/**
 * Appends chunks to a file the way fs.WriteStream does, without its stream machinery: one write in flight,
 * chunks that arrive meanwhile are queued and go out together in one writev(). Nothing waits on a timer, so a
 * chunk reaches the kernel as soon as the previous write returns (a killed pull loses only what was in flight),
 * and the network keeps being read while the disk writes. Measured: as cheap in CPU as a piped WriteStream,
 * where awaiting each chunk's write cost ~20 % more.
 */
export class AppendWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private inflight: Promise<void> | undefined;
  private failure: unknown;
  /** Bytes the kernel has accepted. */
  written = 0;

  constructor(
    private readonly handle: FileHandle,
    /** Queued bytes above which `push` waits for the disk (backpressure). */
    private readonly highWaterMark = 8 * 1024 * 1024,
  ) {}

  /** Queues a chunk; resolves at once unless too much is waiting for the disk. */
  async push(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (!this.inflight) this.startWrite();
    while (this.queuedBytes > this.highWaterMark && this.inflight) await this.inflight;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits until everything queued is written; throws the first write error. */
  async flush(): Promise<void> {
    while (this.inflight) await this.inflight;
    if (this.failure !== undefined) throw this.failure;
  }

  private startWrite(): void {
    const batch = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.inflight = this.writeAll(batch, bytes).then(
      () => {
        this.written += bytes;
        this.inflight = undefined;
        if (this.queue.length && this.failure === undefined) this.startWrite();
      },
      (error: unknown) => {
        this.failure = error;
        this.inflight = undefined;
      },
    );
  }

  /**
   * writev() may write less than asked without an error: the kernel does that when the disk fills up or a
   * file-size limit is reached mid-batch (the next call then fails with ENOSPC or EFBIG). The rest is written
   * again, so the file never silently misses bytes the hash has already seen.
   */
  private async writeAll(batch: Buffer[], bytes: number): Promise<void> {
    let pending = batch;
    let left = bytes;
    while (left > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      if (bytesWritten <= 0) {
        throw Object.assign(new Error('ENOSPC: the disk accepted no more bytes, write'), { code: 'ENOSPC' });
      }
      left -= bytesWritten;
      if (left > 0) pending = dropBytes(pending, bytesWritten);
    }
  }
}

/** The buffers that remain after the first `count` bytes of `buffers`. */
function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let skip = count;
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (skip >= buffer.length) {
      skip -= buffer.length;
      continue;
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
