import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/core/errors.js';
import { bearerMatches, isLoopbackHost } from '../../src/serve/auth.js';
import { parseServeFlags } from '../../src/serve/options.js';

describe('serve flags', () => {
  it('defaults to loopback:8080, 4 parallel answers and a 64-deep queue', () => {
    expect(parseServeFlags({}, {}, false)).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      parallel: 4,
      maxQueue: 64,
      apiKey: undefined,
      logFormat: 'json',
    });
  });

  it.each([
    [{ port: '70000' }, /--port "70000" is not valid: expected an integer from 0 to 65535/],
    [{ parallel: '0' }, /--parallel "0" is not valid/],
    [{ queue: 'many' }, /--queue "many" is not valid/],
    [{ logFormat: 'xml' }, /--log-format "xml" is not valid: expected json or pretty/],
    [{ logLevel: 'loud' }, /--log-level "loud" is not valid/],
    [{ apiKey: 'short' }, /--api-key is too short/],
  ])('rejects %o with a one-line usage error', (flags, message) => {
    expect(() => parseServeFlags(flags, {}, false)).toThrow(UsageError);
    expect(() => parseServeFlags(flags, {}, false)).toThrow(message);
  });

  it('fetches no media URLs unless --allow-remote-media (public addresses; =any for private ones too)', () => {
    expect(parseServeFlags({}, {}, false).remoteMedia).toBe('off');
    expect(parseServeFlags({ allowRemoteMedia: true }, {}, false).remoteMedia).toBe('public');
    expect(parseServeFlags({ allowRemoteMedia: 'any' }, {}, false).remoteMedia).toBe('any');
    expect(() => parseServeFlags({ allowRemoteMedia: 'all' }, {}, false)).toThrow(
      '--allow-remote-media "all" is not valid: expected no value, public or any',
    );
  });

  it('takes the key from ATOMR_INFER_API_KEY, and --api-key wins', () => {
    expect(parseServeFlags({}, { ATOMR_INFER_API_KEY: 'env-key-123456' }, false).apiKey).toBe(
      'env-key-123456',
    );
    expect(
      parseServeFlags({ apiKey: 'flag-key-123456' }, { ATOMR_INFER_API_KEY: 'env-key-123456' }, false).apiKey,
    ).toBe('flag-key-123456');
    expect(() => parseServeFlags({}, { ATOMR_INFER_API_KEY: 'abc' }, false)).toThrow(ConfigError);
  });
});

describe('serve auth helpers', () => {
  it('knows loopback addresses from network ones', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '10.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('knows every spelling of a loopback address the OS accepts (inet_aton shorthand, IPv6 forms)', () => {
    const loopback = [
      '127.1',
      '127.0.1',
      '127.255.255.254',
      '0x7f.1',
      '0X7F.0.0.1',
      '0177.0.0.1',
      '0177.1',
      '2130706433',
      '0x7f000001',
      '017700000001',
      '127.0.0.01',
      'LOCALHOST',
      ' localhost ',
      '0:0:0:0:0:0:0:1',
      '0::1',
      '[0:0:0:0:0:0:0:1]',
      '::ffff:7f00:1',
      '[::ffff:127.0.0.1]',
    ];
    for (const host of loopback) expect(isLoopbackHost(host), host).toBe(true);
    const network = [
      '0',
      '128.1',
      '126.255.255.255',
      '2130706431',
      '2147483648',
      '0x80.1',
      '1.127.0.0',
      '127.16777216',
      '127.0.0.256',
      '127.0.0.1.1',
      '127..1',
      '127.0.0.1.',
      '127.0.0.1x',
      '0x',
      '09.0.0.1',
      '4294967423',
      '::ffff:a00:1',
      '::127.0.0.1',
      '::2',
      'localhost.',
      'localhost.example.com',
      '127.0.0.1.nip.io',
    ];
    for (const host of network) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('accepts only the exact bearer token', () => {
    expect(bearerMatches('Bearer secret-key-1', 'secret-key-1')).toBe(true);
    expect(bearerMatches('bearer secret-key-1', 'secret-key-1')).toBe(true);
    expect(bearerMatches('Bearer secret-key-2', 'secret-key-1')).toBe(false);
    expect(bearerMatches('secret-key-1', 'secret-key-1')).toBe(false);
    expect(bearerMatches(undefined, 'secret-key-1')).toBe(false);
    expect(bearerMatches('Bearer ', 'secret-key-1')).toBe(false);
  });
});
