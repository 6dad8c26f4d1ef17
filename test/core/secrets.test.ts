import { describe, expect, it } from 'vitest';
import { redactSecrets, registerSecret } from '../../src/core/secrets.js';

describe('redactSecrets', () => {
  it('hides anything shaped like a Hugging Face token, even when it is not configured', () => {
    expect(redactSecrets('401 for hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345', {})).toBe('401 for hf_***');
  });

  it('hides the values of the secret environment variables, whatever their shape', () => {
    const env = {
      HF_TOKEN: 'tok-1234',
      HUGGING_FACE_HUB_TOKEN: 'legacy-5678',
      ATOMR_INFER_API_KEY: 'sk-local',
      OPENAI_API_KEY: 'sk-openai-9',
    };
    expect(redactSecrets('a tok-1234 b legacy-5678 c sk-local d sk-openai-9', env)).toBe(
      'a *** b *** c *** d ***',
    );
  });

  it('hides registered secrets and ignores values too short to be secrets', () => {
    registerSecret('registered-secret-value');
    registerSecret('ab');
    registerSecret(undefined);
    expect(redactSecrets('x registered-secret-value y ab', {})).toBe('x *** y ab');
  });

  it('hides the whole of a secret that contains another secret, whichever is registered first', () => {
    registerSecret('overlap-secret-long-part');
    expect(redactSecrets('[overlap-secret-long-part]', { HF_TOKEN: 'overlap-secret' })).toBe('[***]');
    registerSecret('short-secret');
    expect(redactSecrets('[short-secret-and-more]', { HF_TOKEN: 'short-secret-and-more' })).toBe('[***]');
  });

  it('never searches text for a secret shorter than 8 characters: it would hit ordinary words and so reveal it', () => {
    // Issue 9 item 14b: ATOMR_INFER_API_KEY=short printed "is too ***", which names the key by elimination.
    const message = 'ATOMR_INFER_API_KEY is too short: expected at least 8 characters';
    expect(redactSecrets(message, { ATOMR_INFER_API_KEY: 'short' })).toBe(message);
    registerSecret('true');
    expect(redactSecrets('{"ok":true}', { HF_TOKEN: 'model' })).toBe('{"ok":true}');
    expect(redactSecrets('key 1234567 and 12345678', { OPENAI_API_KEY: '1234567' })).toBe(
      'key 1234567 and 12345678',
    );
    expect(redactSecrets('key 12345678', { OPENAI_API_KEY: '12345678' })).toBe('key ***');
  });

  it('leaves text without secrets untouched', () => {
    expect(redactSecrets('nothing to see', {})).toBe('nothing to see');
  });
});
