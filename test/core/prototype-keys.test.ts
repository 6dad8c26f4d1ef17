import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/core/errors.js';
import { parseRemoteSettings } from '../../src/runners/remote/settings.js';
import { preflightGguf } from '../../src/runners/llamacpp/gguf/preflight.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/**
 * Lookups keyed by a name a user (or a file) supplies, outside the deployment registry (see
 * test/core/deployments.test.ts): a name that is an Object.prototype key must find nothing, not an inherited
 * function that later ends in a TypeError stack trace.
 */

const PROTOTYPE_KEYS = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

describe('the remote runner’s apiKeyEnv (a variable name stored in a deployment)', () => {
  it.each(PROTOTYPE_KEYS)('apiKeyEnv %s names no variable: no key, no TypeError', (name) => {
    const parsed = parseRemoteSettings(
      { endpoint: 'http://127.0.0.1:8000/v1', apiKeyEnv: name },
      'google/gemma-4-E4B-it',
      { PATH: '/usr/bin' },
    );
    expect(parsed.apiKey).toBeUndefined();
    expect(parsed.settings.apiKeySource).toBeUndefined();
  });

  it('still reads a variable that is set', () => {
    const parsed = parseRemoteSettings({ endpoint: 'http://127.0.0.1:8000/v1', apiKeyEnv: 'MY_KEY' }, 'm', {
      MY_KEY: 'sk-test-123456',
    });
    expect(parsed.apiKey).toBe('sk-test-123456');
  });
});

describe('a GGUF whose general.architecture is an Object.prototype key', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomr-proto-gguf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(PROTOTYPE_KEYS)(
    'architecture %j is refused as not Gemma (exit 4), not a TypeError',
    async (arch) => {
      const path = await writeTinyGguf({
        arch: 'gemma3',
        seed: 5,
        path: join(dir, `${arch}.gguf`),
        omitKeys: ['general.architecture'],
        extraMetadata: [['general.architecture', { type: 8, value: arch }]],
      });
      let error: unknown;
      try {
        preflightGguf(path);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).message).toBe(
        `${arch}.gguf is a "${arch}" model; atomr-infer runs Gemma models (gemma, gemma2, gemma3, gemma3n, gemma4)`,
      );
    },
  );
});
