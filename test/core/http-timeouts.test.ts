import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import {
  HttpTimeoutError,
  describeBody,
  isTimeoutError,
  readWithIdleTimeout,
  timeoutFromEnv,
} from '../../src/core/http-timeouts.js';

/** The one timeout helper shared by the Hub client and the remote runner (src/core/http-timeouts.ts). */

/** A body that sends `chunks`, `gapMs` apart, then ends (or, with `stallAfter`, goes silent). */
function body(
  chunks: number,
  gapMs: number,
  stallAfter = false,
): ReadableStream<Uint8Array> & { cancelled: () => boolean } {
  let sent = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === chunks) {
        if (stallAfter) return new Promise<void>(() => undefined);
        controller.close();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      sent++;
      controller.enqueue(new Uint8Array([sent]));
    },
    cancel() {
      cancelled = true;
    },
  });
  return Object.assign(stream, { cancelled: () => cancelled });
}

async function drain(source: AsyncIterable<Uint8Array>, perChunkMs = 0): Promise<number> {
  let count = 0;
  for await (const _chunk of source) {
    count++;
    if (perChunkMs) await new Promise((resolve) => setTimeout(resolve, perChunkMs));
  }
  return count;
}

describe('readWithIdleTimeout', () => {
  it('lets a long body through as long as every gap is shorter than the timeout', async () => {
    expect(await drain(readWithIdleTimeout(body(8, 20), 150, 'h'))).toBe(8);
  });

  it('fails with an idle HttpTimeoutError on silence, and cancels the body', async () => {
    const source = body(2, 5, true);
    const error = await drain(readWithIdleTimeout(source, 100, 'cdn.example')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpTimeoutError);
    expect(error).toMatchObject({ phase: 'idle', message: 'cdn.example stopped sending: nothing for 0.1 s' });
    expect(isTimeoutError(error)).toBe(true);
    expect(source.cancelled()).toBe(true);
  });

  it('does not count the time the consumer spends on a chunk (a slow disk is not a silent server)', async () => {
    expect(await drain(readWithIdleTimeout(body(3, 5), 80, 'h'), 200)).toBe(3);
  });

  it('cancels the body when the consumer stops early', async () => {
    const source = body(10, 5);
    for await (const _chunk of readWithIdleTimeout(source, 1000, 'h')) break;
    expect(source.cancelled()).toBe(true);
  });
});

describe('isTimeoutError', () => {
  it('sees undici timeouts through fetch’s wrapping, and nothing else', () => {
    const wrapped = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    expect(isTimeoutError(wrapped)).toBe(true);
    expect(
      isTimeoutError(
        new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      ),
    ).toBe(false);
    expect(isTimeoutError('timeout')).toBe(false);
  });
});

describe('describeBody', () => {
  it.each([
    [{ text: '<!DOCTYPE html><p>', contentType: '' }, 'an HTML page'],
    [{ text: '{}', contentType: 'text/html' }, 'an HTML page'],
    [{ text: ' ', contentType: 'application/json' }, 'an empty body'],
    [{ text: '{"a":', contentType: 'application/json' }, 'malformed JSON'],
    [{ text: 'OK', contentType: 'text/plain' }, 'text that is not JSON'],
    [{ text: '[1]', contentType: 'application/json' }, 'a JSON array'],
    [{ text: 'null', contentType: '' }, 'null'],
  ])('%j is %s', (body, words) => {
    expect(describeBody({ ...body, complete: true })).toBe(words);
  });
});

describe('timeoutFromEnv', () => {
  it('reads seconds (decimals too), blank is the default', () => {
    expect(timeoutFromEnv({ T: '10' }, 'T', 3)).toBe(10_000);
    expect(timeoutFromEnv({ T: ' 0.25 ' }, 'T', 3)).toBe(250);
    expect(timeoutFromEnv({ T: '' }, 'T', 3)).toBe(3000);
    expect(timeoutFromEnv({}, 'T', 3)).toBe(3000);
  });

  it.each(['0', '-5', 'ten', '1e6', 'Infinity', '0x10'])(
    'refuses %j with a ConfigError naming the variable',
    (value) => {
      expect(() => timeoutFromEnv({ HF_HUB_ETAG_TIMEOUT: value }, 'HF_HUB_ETAG_TIMEOUT', 10)).toThrow(
        ConfigError,
      );
      expect(() => timeoutFromEnv({ HF_HUB_ETAG_TIMEOUT: value }, 'HF_HUB_ETAG_TIMEOUT', 10)).toThrow(
        `HF_HUB_ETAG_TIMEOUT=${JSON.stringify(value)} is not valid`,
      );
    },
  );
});
