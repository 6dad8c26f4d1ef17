import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Bearer-token checks and the loopback test that decides whether `serve` may run without a key. */

/** Constant-time comparison of the presented bearer token with the key (hashes make the lengths equal). */
export function bearerMatches(authorization: string | undefined, apiKey: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
  const presented = match?.[1]?.trim() ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(apiKey).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}

/** Only these hosts are reachable from this machine alone; anything else (0.0.0.0, a LAN address) needs a key. */
export function isLoopbackHost(host: string): boolean {
  const value = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (value === 'localhost') return true;
  if (isIP(value) === 4) return value.startsWith('127.');
  if (value === '::1') return true;
  if (value.startsWith('::ffff:')) return isLoopbackHost(value.slice('::ffff:'.length));
  return false;
}
