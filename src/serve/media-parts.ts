import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { Dispatcher } from 'undici';
import { UsageError } from '../core/errors.js';
import {
  fetchWithHeadersTimeout,
  formatSeconds,
  hostOf,
  isTimeoutError,
  readWithIdleTimeout,
} from '../core/http-timeouts.js';
import { MAX_MEDIA_BYTES, inspectAudio, inspectImage, type AudioFormat } from '../core/media.js';
import type { ContentPart } from '../core/model-runner.js';
import { causeChain, describeNetworkError } from '../core/network-errors.js';

/**
 * `serve`'s media parts → the seam's bytes: `image_url` (a data URL; an http(s) URL only with
 * `--allow-remote-media`) and `input_audio` (base64 WAV/MP3), each checked (core/media.ts) so that bad media is a
 * 400 naming the part before anything reaches the engine.
 *
 * Fetching URLs a client names is a server-side request forgery hole: without the flag nothing is fetched. With
 * `--allow-remote-media` (policy `public`) only public addresses are connected to: the address every connection
 * resolves to is checked at connect time (so DNS cannot answer a public address for the check and a private one
 * for the connection), loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast and
 * reserved ranges are refused, and redirects are not followed. `--allow-remote-media=any` lifts the address check
 * for a trusted network (an image server on the LAN).
 */

export type RemoteMediaPolicy = 'off' | 'public' | 'any';

export interface MediaOptions {
  remote: RemoteMediaPolicy;
  /** Headers, and then each silence while reading the body (core/http-timeouts.ts). */
  timeoutMs?: number;
  maxBytes?: number;
}

export const MEDIA_FETCH_TIMEOUT_MS = 10_000;

/** An `image_url` or `input_audio` part as the request schema parsed it. */
export type RequestMediaPart =
  | { type: 'image_url'; image_url: string | { url: string } }
  | { type: 'input_audio'; input_audio: { data: string; format: AudioFormat } };

export async function mediaPart(
  part: RequestMediaPart,
  where: string,
  options: MediaOptions,
): Promise<ContentPart> {
  if (part.type === 'input_audio') {
    const data = decodeBase64(part.input_audio.data, where, 'base64 WAV or MP3 audio');
    const info = inspectAudio(data, where, part.input_audio.format);
    return { type: 'audio', data, format: info.format };
  }
  const url = typeof part.image_url === 'string' ? part.image_url : part.image_url.url;
  const data = url.startsWith('data:') ? dataUrlBytes(url, where) : await fetchMedia(url, where, options);
  return { type: 'image', data, mediaType: inspectImage(data, where).mediaType };
}

function invalid(message: string, code = 'invalid_media', hint?: string): UsageError {
  return new UsageError(message, { code, ...(hint ? { hint } : {}) });
}

function decodeBase64(text: string, where: string, accepted: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw invalid(`${where} is not valid base64: expected ${accepted}`);
  }
  return Buffer.from(compact, 'base64');
}

function dataUrlBytes(url: string, where: string): Uint8Array {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  const accepted = 'a data URL such as data:image/png;base64,…';
  if (!match) throw invalid(`${where} is not a valid data URL: expected ${accepted}`);
  const [, mediaType = '', params = '', payload = ''] = match;
  if (!mediaType.toLowerCase().startsWith('image/')) {
    throw invalid(`${where} is a data URL of "${mediaType || 'text/plain'}": expected ${accepted}`);
  }
  if (!params.split(';').includes('base64')) {
    throw invalid(`${where} is a data URL without ";base64": expected ${accepted}`);
  }
  return decodeBase64(payload, where, accepted);
}

async function fetchMedia(url: string, where: string, options: MediaOptions): Promise<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalid(`${where} is not a data URL or an http(s) URL: expected data:image/…;base64,…`);
  }
  if (options.remote === 'off') {
    throw invalid(
      `${where} is an http(s) URL: this server fetches no URLs unless started with --allow-remote-media`,
      'remote_media_disabled',
      'send the image inline as a data URL (data:image/png;base64,…)',
    );
  }
  const host = hostOf(url);
  const literal = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (options.remote === 'public' && isIP(literal) && !isPublicAddress(literal))
    throw blocked(where, literal);
  const timeoutMs = options.timeoutMs ?? MEDIA_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_MEDIA_BYTES;
  const fetcher = options.remote === 'public' ? await publicOnlyFetch() : fetch;
  try {
    const response = await fetchWithHeadersTimeout(
      url,
      { redirect: 'manual' },
      { timeoutMs, fetch: fetcher },
    );
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw invalid(
        `${where}: ${host} answered a redirect (HTTP ${response.status}), which is not followed`,
        'media_fetch_failed',
      );
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw invalid(
        `${where}: fetching it from ${host} failed with HTTP ${response.status}`,
        'media_fetch_failed',
      );
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > maxBytes) {
      await response.body.cancel();
      throw tooLarge(where, maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of readWithIdleTimeout(response.body, timeoutMs, host)) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge(where, maxBytes);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const refused = findBlocked(error);
    if (refused) throw blocked(where, refused);
    const why = isTimeoutError(error)
      ? `${host} did not answer within ${formatSeconds(timeoutMs)}`
      : describeNetworkError(error);
    throw invalid(`${where}: fetching it failed: ${why}`, 'media_fetch_failed');
  }
}

function tooLarge(where: string, maxBytes: number): UsageError {
  return invalid(`${where} is too large: expected at most ${maxBytes} bytes`);
}

function blocked(where: string, address: string): UsageError {
  return invalid(
    `${where} resolves to ${address}, a loopback, private or reserved address this server does not fetch from`,
    'remote_media_blocked',
    'start serve with --allow-remote-media=any to fetch from a trusted private network',
  );
}

/** Everything that is not a public unicast address: what a server must not be made to reach. */
const NON_PUBLIC = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const) {
    list.addSubnet(net, bits, 'ipv4');
  }
  for (const [net, bits] of [
    ['::', 127],
    ['64:ff9b::', 96],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['2001:db8::', 32],
  ] as const) {
    list.addSubnet(net, bits, 'ipv6');
  }
  return list;
})();

export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPublicAddress(mapped);
  const family = isIP(address);
  if (family === 0) return false;
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

class BlockedAddressError extends Error {
  constructor(readonly address: string) {
    super(`${address} is not a public address`);
  }
}

function findBlocked(error: unknown): string | undefined {
  const refused = causeChain(error).find((current) => current instanceof BlockedAddressError);
  return refused instanceof BlockedAddressError ? refused.address : undefined;
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that fails when any address it found is not public (checked where undici connects). */
function publicLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const bad = addresses.find((entry) => !isPublicAddress(entry.address));
    if (bad) return callback(new BlockedAddressError(bad.address), []);
    const wantsAll = (options as { all?: boolean }).all === true;
    const first = addresses[0];
    if (wantsAll || !first) return callback(null, addresses);
    return callback(null, first.address, first.family);
  });
}

let publicFetch: Promise<typeof fetch> | undefined;

/** undici's fetch through an agent that connects to public addresses only (shared by every request). */
function publicOnlyFetch(): Promise<typeof fetch> {
  publicFetch ??= (async () => {
    const undici = await import('undici');
    const agent: Dispatcher = new undici.Agent({ connect: { lookup: publicLookup as never } });
    return (async (input: string | URL | Request, init?: RequestInit) => {
      const target = input instanceof Request ? input.url : input;
      const response = await undici.fetch(target, { ...(init as object), dispatcher: agent });
      return response as unknown as Response;
    }) as typeof fetch;
  })();
  return publicFetch;
}
