import { readSync } from 'node:fs';

/** A header field that does not fit the file, has an impossible value, or an unknown type. */
export class GgufFormatError extends Error {}

const CHUNK = 1 << 20;

/**
 * Sequential little-endian reads over a file descriptor through a 1 MiB window. Every length is checked
 * against the bytes the file still has *before* anything is allocated, so a corrupt count can never make us
 * allocate gigabytes or loop for minutes (what llama.cpp's own reader can do with such files).
 */
export class ByteReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;
  position = 0;

  constructor(
    private readonly fd: number,
    readonly fileSize: number,
  ) {}

  get remaining(): number {
    return this.fileSize - this.position;
  }

  /** Throws unless `count` more bytes exist in the file. */
  require(count: number, what: string): void {
    if (!Number.isFinite(count) || count < 0 || count > this.remaining) {
      throw new GgufFormatError(
        `${what} needs ${formatCount(count)} bytes at offset ${this.position}, but the file ends ${this.remaining} bytes later`,
      );
    }
  }

  /** Makes bytes [position, position + count) readable from the window; returns their offset in it. */
  private ensure(count: number, what: string): number {
    this.require(count, what);
    const start = this.position - this.windowStart;
    if (start >= 0 && start + count <= this.window.length) return start;
    const size = Math.min(Math.max(count, CHUNK), this.remaining);
    const buffer = Buffer.allocUnsafe(size);
    const read = readSync(this.fd, buffer, 0, size, this.position);
    if (read < count) throw new GgufFormatError(`${what}: short read at offset ${this.position}`);
    this.window = buffer.subarray(0, read);
    this.windowStart = this.position;
    return 0;
  }

  private bytesAt(count: number, what: string): Buffer {
    const offset = this.ensure(count, what);
    this.position += count;
    return this.window.subarray(offset, offset + count);
  }

  u8(what: string): number {
    return this.bytesAt(1, what).readUInt8(0);
  }

  i8(what: string): number {
    return this.bytesAt(1, what).readInt8(0);
  }

  u16(what: string): number {
    return this.bytesAt(2, what).readUInt16LE(0);
  }

  i16(what: string): number {
    return this.bytesAt(2, what).readInt16LE(0);
  }

  u32(what: string): number {
    return this.bytesAt(4, what).readUInt32LE(0);
  }

  i32(what: string): number {
    return this.bytesAt(4, what).readInt32LE(0);
  }

  f32(what: string): number {
    return this.bytesAt(4, what).readFloatLE(0);
  }

  f64(what: string): number {
    return this.bytesAt(8, what).readDoubleLE(0);
  }

  /** A u64 as a Number; values beyond 2^53 are reported as such rather than silently rounded. */
  u64(what: string): number {
    const offset = this.ensure(8, what);
    this.position += 8;
    const low = this.window.readUInt32LE(offset);
    const high = this.window.readUInt32LE(offset + 4);
    // Read as two halves: BigInt per value is slow across the ~800k strings of a Gemma vocabulary.
    if (high >= 0x200000) {
      throw new GgufFormatError(
        `${what} is ${(BigInt(high) << 32n) | BigInt(low)}, far beyond any real file`,
      );
    }
    return high * 0x100000000 + low;
  }

  i64(what: string): number {
    const value = this.bytesAt(8, what).readBigInt64LE(0);
    return Number(value);
  }

  /** A GGUF string: u64 byte length, then UTF-8 bytes. */
  string(what: string): string {
    const length = this.u64(what);
    const offset = this.ensure(length, what);
    this.position += length;
    return this.window.toString('utf8', offset, offset + length);
  }

  skipString(what: string): void {
    this.skip(this.u64(what), what);
  }

  skip(count: number, what: string): void {
    this.require(count, what);
    this.position += count;
  }

  /** Raw bytes from the start of the file (for sniffing what a non-GGUF file is). */
  peekStart(count: number): Buffer {
    const size = Math.min(count, this.fileSize);
    const buffer = Buffer.alloc(size);
    const read = size > 0 ? readSync(this.fd, buffer, 0, size, 0) : 0;
    return buffer.subarray(0, read);
  }
}

function formatCount(count: number): string {
  return Number.isFinite(count) ? String(count) : 'an impossible number of';
}
