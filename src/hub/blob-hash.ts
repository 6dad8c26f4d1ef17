import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { RemoteFile } from './repo-info.js';

/**
 * The checksum a cache blob is named after, computed the same way for a download in flight, a partial file
 * being resumed and a finished blob being verified: sha256 for LFS files; for small files git's blob hash
 * (sha1 of "blob <size>\0" + content), which is the Hub's `blobId`.
 */
export class Hasher {
  private hash: Hash;

  constructor(private readonly file: Pick<RemoteFile, 'size' | 'lfsSha256'>) {
    this.hash = this.fresh();
  }

  private fresh(): Hash {
    if (this.file.lfsSha256) return createHash('sha256');
    return createHash('sha1').update(`blob ${this.file.size}\0`);
  }

  reset(): void {
    this.hash = this.fresh();
  }

  update(data: Buffer): void {
    this.hash.update(data);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Feeds the first `length` bytes of `path` to `hash` (a partial download being resumed). */
export async function hashPrefix(path: string, length: number, hash: Hasher): Promise<void> {
  if (length <= 0) return;
  const stream = createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

/** The checksum of a whole file, for the algorithm `file` calls for. */
export async function hashFile(path: string, file: Pick<RemoteFile, 'size' | 'lfsSha256'>): Promise<string> {
  const hash = new Hasher(file);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest();
}
