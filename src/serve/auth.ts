import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/** Bearer-token checks and the loopback test that decides whether `serve` may run without a key. */

/** Constant-time comparison of the presented bearer token with the key (hashes make the lengths equal). */
export function bearerMatches(authorization: string | undefined, apiKey: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
  const presented = match?.[1]?.trim() ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(apiKey).digest();
  return timingSafeEqual(a, b) && presented.length > 0;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Only these hosts are reachable from this machine alone; anything else (0.0.0.0, a LAN address) needs a key.
 * Loopback is `localhost`, 127.0.0.0/8 in every form the OS resolver accepts for it (inet_aton: `127.1`,
 * `0x7f.1`, `0177.0.0.1`, `2130706433`), and `::1` in any IPv6 spelling, IPv4-mapped ones included. Anything
 * that is not plainly one of these (a trailing dot, another name) is treated as a network address: the check
 * must never call loopback what the OS would bind elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
  const value = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (value === 'localhost') return true;
  if (isIP(value) === 6) return LOOPBACK.check(value, 'ipv6');
  const ipv4 = inetAton(value);
  return ipv4 !== undefined && LOOPBACK.check(ipv4, 'ipv4');
}

/**
 * An IPv4 address in any numeric form inet_aton (and so getaddrinfo, and so `listen`) accepts, as a dotted
 * quad: one to four parts, each decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes.
 */
function inetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const match = /^(?:0x([0-9a-f]+)|0([0-7]*)|([1-9][0-9]*))$/.exec(part);
    if (!match) return undefined;
    const [, hex, octal, decimal] = match;
    numbers.push(
      hex !== undefined
        ? parseInt(hex, 16)
        : octal !== undefined
          ? parseInt(octal || '0', 8)
          : Number(decimal),
    );
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 2 ** (8 * (4 - numbers.length))) return undefined;
  const value = numbers.reduce((sum, n, i) => sum + n * 2 ** (8 * (3 - i)), 0) + last;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
