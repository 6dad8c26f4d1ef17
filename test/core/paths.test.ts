import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deploymentsFile,
  hfEndpoint,
  hfHome,
  hfHubCacheDir,
  hfOffline,
  hfTokenPath,
  readHfToken,
  stateDir,
} from '../../src/core/paths.js';
import { redactSecrets } from '../../src/core/secrets.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'atomr-paths-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('Hugging Face hub cache, as huggingface_hub resolves it', () => {
  it('walks HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > $HF_HOME/hub > $XDG_CACHE_HOME/huggingface/hub > ~/.cache/huggingface/hub', () => {
    const env = {
      HOME: home,
      HF_HUB_CACHE: '/a/hub',
      HUGGINGFACE_HUB_CACHE: '/b/hub',
      HF_HOME: '/c',
      XDG_CACHE_HOME: '/d',
    };
    expect(hfHubCacheDir(env)).toBe('/a/hub');
    expect(hfHubCacheDir({ ...env, HF_HUB_CACHE: undefined })).toBe('/b/hub');
    expect(hfHubCacheDir({ ...env, HF_HUB_CACHE: undefined, HUGGINGFACE_HUB_CACHE: undefined })).toBe(
      '/c/hub',
    );
    expect(hfHubCacheDir({ HOME: home, XDG_CACHE_HOME: '/d' })).toBe('/d/huggingface/hub');
    expect(hfHubCacheDir({ HOME: home })).toBe(join(home, '.cache', 'huggingface', 'hub'));
  });

  it('skips blank values and expands ~', () => {
    expect(hfHubCacheDir({ HOME: home, HF_HUB_CACHE: '  ', HF_HOME: '~/hf' })).toBe(join(home, 'hf', 'hub'));
    expect(hfHubCacheDir({ HOME: home, HF_HUB_CACHE: '~' })).toBe(home);
  });

  it('makes a relative path absolute against the working directory', () => {
    expect(hfHubCacheDir({ HOME: home, HF_HUB_CACHE: 'rel/hub' })).toBe(resolve('rel/hub'));
  });

  it('puts HF_HOME under XDG_CACHE_HOME when HF_HOME is unset', () => {
    expect(hfHome({ HOME: home, XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface');
  });
});

describe('Hugging Face token: HF_TOKEN > HUGGING_FACE_HUB_TOKEN > token file', () => {
  const file = (text: string, path = join(home, 'hf', 'token')): string => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
    return path;
  };

  it('prefers HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then $HF_HOME/token', () => {
    file('from-file-token\n');
    const env = {
      HOME: home,
      HF_HOME: join(home, 'hf'),
      HF_TOKEN: 'from-hf-token',
      HUGGING_FACE_HUB_TOKEN: 'from-legacy',
    };
    expect(readHfToken(env)).toEqual({ value: 'from-hf-token', source: 'HF_TOKEN' });
    expect(readHfToken({ ...env, HF_TOKEN: ' ' })).toEqual({
      value: 'from-legacy',
      source: 'HUGGING_FACE_HUB_TOKEN',
    });
    expect(readHfToken({ ...env, HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: '' })).toEqual({
      value: 'from-file-token',
      source: 'token-file',
      path: join(home, 'hf', 'token'),
    });
  });

  it('reads HF_TOKEN_PATH instead of $HF_HOME/token when set', () => {
    file('default-location');
    const custom = file('custom-location\r\n', join(home, 'elsewhere', 'tok'));
    expect(hfTokenPath({ HOME: home, HF_TOKEN_PATH: custom })).toBe(custom);
    expect(readHfToken({ HOME: home, HF_HOME: join(home, 'hf'), HF_TOKEN_PATH: custom })?.value).toBe(
      'custom-location',
    );
  });

  it('returns nothing for a missing or empty token file', () => {
    expect(readHfToken({ HOME: home, HF_HOME: join(home, 'hf') })).toBeUndefined();
    file('  \n');
    expect(readHfToken({ HOME: home, HF_HOME: join(home, 'hf') })).toBeUndefined();
  });

  it('registers a token read from a file, so later output hides it', () => {
    file('fileTokenNotHfShaped42');
    readHfToken({ HOME: home, HF_HOME: join(home, 'hf') });
    expect(redactSecrets('oops fileTokenNotHfShaped42 leaked', {})).toBe('oops *** leaked');
  });
});

describe('other paths', () => {
  it('puts state under ATOMR_INFER_HOME > $XDG_STATE_HOME/atomr-infer > ~/.local/state/atomr-infer', () => {
    expect(stateDir({ HOME: home, ATOMR_INFER_HOME: '/s', XDG_STATE_HOME: '/x' })).toBe('/s');
    expect(stateDir({ HOME: home, XDG_STATE_HOME: '/x' })).toBe('/x/atomr-infer');
    expect(stateDir({ HOME: home })).toBe(join(home, '.local', 'state', 'atomr-infer'));
    expect(deploymentsFile({ HOME: home, ATOMR_INFER_HOME: '/s' })).toBe('/s/deployments.json');
  });

  it('reads HF_ENDPOINT without a trailing slash and HF_HUB_OFFLINE as huggingface_hub does', () => {
    expect(hfEndpoint({})).toBe('https://huggingface.co');
    expect(hfEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:9999//' })).toBe('http://127.0.0.1:9999');
    expect(['1', 'true', 'YES', 'on'].map((v) => hfOffline({ HF_HUB_OFFLINE: v }))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0', 'false', '', 'no'].map((v) => hfOffline({ HF_HUB_OFFLINE: v }))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
