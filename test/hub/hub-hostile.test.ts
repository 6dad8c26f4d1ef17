import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors.js';
import { HubClient } from '../../src/hub/hub-client.js';
import { pull } from '../../src/hub/pull.js';
import { isSafeRepoPath, parseRepoInfo } from '../../src/hub/repo-info.js';
import {
  HTML_PAGE,
  fixedAnswer,
  stallAfterHeaders,
  startScriptedServer,
  startSilentServer,
  type HostileServer,
} from '../helpers/hostile-servers.js';
import { GGUF_FILE, GGUF_REPO, tempHome } from './helpers.js';

/**
 * The Hub client against endpoints that hang or answer nonsense (issue 9, items 4 and 7): every case is a
 * one-line ModelError (exit 4) naming the endpoint, after at most two tries when the server is silent.
 */

const COMMIT = 'c'.repeat(40);
const OID = 'b'.repeat(40);
const FAST = { baseDelayMs: 1, maxDelayMs: 5, attempts: 5 };
let server: HostileServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

function client(endpoint: string, timeoutMs = 300): HubClient {
  return new HubClient({ endpoint, retry: FAST, timeouts: { metadataMs: timeoutMs, downloadMs: timeoutMs } });
}

describe('a Hub that hangs', () => {
  it('accepting and never answering: hub-timeout after two tries, though five are allowed', async () => {
    server = await startSilentServer();
    const error = await client(server.url)
      .repoInfo(GGUF_REPO)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'hub-timeout', exitCode: 4 });
    expect((error as ModelError).message).toMatch(/did not answer within 0\.3 s \(2 tries\)$/);
    expect((error as ModelError).message).toContain(server.url);
    expect(server.hits()).toBe(2);
  });

  it('asked once (attempts: 1) when the cache can answer instead', async () => {
    server = await startSilentServer();
    await expect(
      client(server.url).repoInfo(GGUF_REPO, 'main', undefined, { attempts: 1 }),
    ).rejects.toMatchObject({
      code: 'hub-timeout',
    });
    expect(server.hits()).toBe(1);
  });

  it('headers, then a model-info body that never ends: hub-timeout, retried once', async () => {
    server = await startScriptedServer(stallAfterHeaders({ prefix: '{"sha":"' }));
    const error = (await client(server.url)
      .repoInfo(GGUF_REPO)
      .catch((e: unknown) => e)) as ModelError;
    expect(error).toMatchObject({ code: 'hub-timeout', exitCode: 4 });
    expect(error.message).toMatch(/stopped sending: nothing for 0\.3 s/);
    expect(server.hits()).toBe(2);
  });
});

describe('a Hub that answers nonsense with 200', () => {
  const sibling = (fields: Record<string, unknown>): string =>
    JSON.stringify({ sha: COMMIT, siblings: [{ rfilename: GGUF_FILE, size: 10, blobId: OID, ...fields }] });

  it.each([
    ['an HTML page', HTML_PAGE, 'text/html', /expected JSON, got an HTML page/],
    ['an empty body', '', 'application/json', /expected JSON, got an empty body/],
    ['truncated JSON', '{"sha":', 'application/json', /expected JSON, got malformed JSON/],
    ['a JSON array', '[]', 'application/json', /expected a JSON object, got a JSON array/],
    ['null', 'null', 'application/json', /expected a JSON object, got null/],
    ['no sha', '{"siblings":[]}', 'application/json', /no 40-hex commit "sha"/],
    ['a sha that is a path', '{"sha":"../../x","siblings":[]}', 'application/json', /no 40-hex commit/],
    [
      'siblings not a list',
      `{"sha":"${COMMIT}","siblings":"x"}`,
      'application/json',
      /no "siblings" file list/,
    ],
    [
      'a sibling that is not an object',
      `{"sha":"${COMMIT}","siblings":[1]}`,
      'application/json',
      /file #1 is not an object/,
    ],
    [
      'a path climbing out',
      sibling({ rfilename: '../evil.gguf' }),
      'application/json',
      /unusable path "\.\.\/evil\.gguf"/,
    ],
    ['an absolute path', sibling({ rfilename: '/etc/x.gguf' }), 'application/json', /unusable path/],
    ['a blob id that is a path', sibling({ blobId: '../../x' }), 'application/json', /no 40-hex "blobId"/],
    [
      'an lfs sha256 that is a path',
      sibling({ lfs: { sha256: '../x', size: 10 } }),
      'application/json',
      /64-hex "sha256"/,
    ],
    ['a negative size', sibling({ size: -1 }), 'application/json', /has no size/],
    ['a size that is text', sibling({ size: '10' }), 'application/json', /has no size/],
  ])('%s: hub-bad-response naming the endpoint, no retry', async (_what, body, type, problem) => {
    server = await startScriptedServer(fixedAnswer(body, type));
    const error = (await client(server.url)
      .repoInfo(GGUF_REPO)
      .catch((e: unknown) => e)) as ModelError;
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'hub-bad-response', exitCode: 4 });
    expect(error.message).toContain(`the Hub at ${server.url} sent an unusable answer for the model info`);
    expect(error.message).toMatch(problem);
    expect(error.hint).toContain('HF_ENDPOINT');
    expect(server.hits()).toBe(1);
  });

  it('a file body longer than the model info says: refused before it fills the disk', async () => {
    const info = JSON.stringify({
      sha: COMMIT,
      siblings: [{ rfilename: GGUF_FILE, size: 10, blobId: OID, lfs: { sha256: 'a'.repeat(64), size: 10 } }],
    });
    server = await startScriptedServer((req, res) => {
      if (req.url?.startsWith('/api/')) return fixedAnswer(info, 'application/json')(req, res, 0);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(1_000_000, 1));
    });
    const home = await tempHome(server.url);
    try {
      const error = await pull({
        model: 'google/gemma-4-E2B-it',
        runtime: 'llama-cpp',
        env: home.env(),
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'hub-bad-response', exitCode: 4 });
      expect((error as Error).message).toMatch(/more than the 10 bytes its model info lists/);
      const partial = join(
        home.cacheDir,
        'models--ggml-org--gemma-4-E2B-it-GGUF',
        'blobs',
        `${'a'.repeat(64)}.incomplete`,
      );
      expect((await stat(partial)).size).toBeLessThanOrEqual(10);
    } finally {
      await home.cleanup();
    }
  });
});

describe('model info validation', () => {
  it.each(['a.gguf', 'sub/dir/model-00001-of-00002.gguf', 'weird name (1).json'])('accepts %s', (path) => {
    expect(isSafeRepoPath(path)).toBe(true);
  });

  it.each([
    '',
    '..',
    'a/../b',
    '../a',
    '/abs',
    'a//b',
    './a',
    'a/.',
    'a\\b',
    'a\u0000b',
    'a\nb',
    'x'.repeat(1025),
  ])('refuses the path %j', (path) => {
    expect(isSafeRepoPath(path)).toBe(false);
  });

  it('keeps the real shape, LFS and small files, and an lfs: null', () => {
    const parsed = parseRepoInfo(
      {
        sha: COMMIT,
        siblings: [
          { rfilename: 'config.json', size: 5, blobId: OID, lfs: null },
          { rfilename: 'm.gguf', size: 9, blobId: OID, lfs: { sha256: 'd'.repeat(64), size: 9 } },
        ],
      },
      'o/r',
      'main',
    );
    expect(parsed).toEqual({
      ok: true,
      info: {
        repo: 'o/r',
        revision: 'main',
        commit: COMMIT,
        files: [
          { path: 'config.json', size: 5, blobId: OID },
          { path: 'm.gguf', size: 9, blobId: OID, lfsSha256: 'd'.repeat(64) },
        ],
      },
    });
  });
});
