import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import {
  dependencyEnvPatch,
  envVarErrorToConfigError,
  withDependencyEnv,
} from '../../../src/runners/llamacpp/dependency-env.js';

/** Issue 9 item 6: node-llama-cpp parses CI and NODE_LLAMA_CPP_* strictly when imported; we feed it what it accepts. */
describe('dependencyEnvPatch', () => {
  it.each([
    ['yes', 'true'],
    ['maybe', 'true'],
    ['woodpecker', 'true'],
    ['  On ', 'true'],
    ['no', 'false'],
    ['OFF', 'false'],
    ['', undefined],
    ['   ', undefined],
  ])('CI=%j is given to node-llama-cpp as %j', (ci, expected) => {
    const patch = dependencyEnvPatch({ CI: ci });
    expect(patch.has('CI')).toBe(true);
    expect(patch.get('CI')).toBe(expected);
  });

  it.each(['true', 'false', 'TRUE', 'False', '1', '0'])('CI=%j is left as it is', (ci) => {
    expect(dependencyEnvPatch({ CI: ci }).size).toBe(0);
  });

  it('unsets blank NODE_LLAMA_CPP_* values and leaves the others (and unrelated variables) alone', () => {
    const patch = dependencyEnvPatch({
      NODE_LLAMA_CPP_GPU: ' ',
      NODE_LLAMA_CPP_DEBUG: '',
      NODE_LLAMA_CPP_LOG_LEVEL: 'loud',
      npm_config_node_llama_cpp_postinstall: '',
      HOME: '',
    });
    expect([...patch.entries()]).toEqual([
      ['NODE_LLAMA_CPP_GPU', undefined],
      ['NODE_LLAMA_CPP_DEBUG', undefined],
      ['npm_config_node_llama_cpp_postinstall', undefined],
    ]);
  });
});

describe('withDependencyEnv', () => {
  it('shows the normalised values while the work runs, then restores exactly what was there', async () => {
    const env: NodeJS.ProcessEnv = { CI: 'yes', NODE_LLAMA_CPP_GPU: '', OTHER: 'x' };
    const seen: NodeJS.ProcessEnv[] = [];
    await withDependencyEnv(async () => {
      seen.push({ ...env });
      // Nested (getEngine → loadNodeLlamaCpp): the same environment, not restored early.
      await withDependencyEnv(async () => {
        seen.push({ ...env });
      }, env);
      seen.push({ ...env });
    }, env);
    expect(seen).toEqual([
      { CI: 'true', OTHER: 'x' },
      { CI: 'true', OTHER: 'x' },
      { CI: 'true', OTHER: 'x' },
    ]);
    expect(env).toEqual({ CI: 'yes', NODE_LLAMA_CPP_GPU: '', OTHER: 'x' });
  });

  it('restores the environment when the work fails too, and turns an EnvVarError into a ConfigError', async () => {
    const env: NodeJS.ProcessEnv = { CI: '', NODE_LLAMA_CPP_DEBUG: 'maybe' };
    const failing = withDependencyEnv(async () => {
      throw new Error(
        'env-var: "NODE_LLAMA_CPP_DEBUG" should be either "true", "false", "TRUE", "FALSE", 1, or 0',
      );
    }, env);
    await expect(failing).rejects.toThrow(ConfigError);
    await expect(failing).rejects.toThrow(
      'NODE_LLAMA_CPP_DEBUG="maybe" is not valid: node-llama-cpp accepts "true", "false", "TRUE", "FALSE", 1, or 0',
    );
    expect(env).toEqual({ CI: '', NODE_LLAMA_CPP_DEBUG: 'maybe' });
  });

  it('passes other errors through untouched', async () => {
    const error = new Error('something else');
    await expect(withDependencyEnv(() => Promise.reject(error), {})).rejects.toBe(error);
    expect(envVarErrorToConfigError('not an error', undefined, {})).toBeUndefined();
  });
});
