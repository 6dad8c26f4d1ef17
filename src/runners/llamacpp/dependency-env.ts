import { ConfigError } from '../../core/errors.js';

/**
 * node-llama-cpp reads `CI` and its own `NODE_LLAMA_CPP_*` variables with the `env-var` package when it is first
 * imported (its dist/config.js), and throws an `EnvVarError` for anything but the exact forms it knows: `CI=yes`,
 * `CI=` or `CI=woodpecker` — values real CI systems set — ended `chat`, `serve` and `bench` in a stack trace.
 *
 * While node-llama-cpp loads (the import, and getLlama(), whose binary check forks a child that imports it again),
 * the environment it sees is normalised:
 * - `CI`: blank → unset; `true`/`false`/`1`/`0` (any case) → as given; `no`/`off`/`n` → `false`; anything else →
 *   `true` (the usual meaning of "CI is set"). node-llama-cpp only uses it to choose plain progress logs.
 * - a blank `NODE_LLAMA_CPP_*` value → unset, as for every atomr-infer variable.
 * Afterwards the user's values are put back exactly, so our own code and the children we start (the vLLM
 * interpreter, nvidia-smi) see what the user set. Any other malformed `NODE_LLAMA_CPP_*` value is the user's
 * explicit wish for node-llama-cpp, so it is not guessed at: it becomes one ConfigError line naming the variable
 * and what node-llama-cpp accepts (exit 2).
 */

const CI_BOOLEAN = new Set(['true', 'false', '1', '0']);
const CI_OFF = new Set(['no', 'off', 'n']);

/** Variables node-llama-cpp parses strictly at import (NODE_LLAMA_CPP_* and npm's spelling of its postinstall flag). */
function isNodeLlamaCppVariable(name: string): boolean {
  return name.startsWith('NODE_LLAMA_CPP_') || name === 'npm_config_node_llama_cpp_postinstall';
}

/** The changes to make to `env` (undefined = unset) so node-llama-cpp's strict parsing accepts it. */
export function dependencyEnvPatch(env: NodeJS.ProcessEnv): Map<string, string | undefined> {
  const patch = new Map<string, string | undefined>();
  const ci = env.CI;
  if (ci !== undefined) {
    const value = ci.trim().toLowerCase();
    if (value === '') patch.set('CI', undefined);
    else if (!CI_BOOLEAN.has(value)) patch.set('CI', CI_OFF.has(value) ? 'false' : 'true');
  }
  for (const [name, value] of Object.entries(env)) {
    if (isNodeLlamaCppVariable(name) && value !== undefined && value.trim() === '')
      patch.set(name, undefined);
  }
  return patch;
}

let depth = 0;
let saved: Map<string, string | undefined> | undefined;

function setVariable(env: NodeJS.ProcessEnv, name: string, value: string | undefined): void {
  if (value === undefined) delete env[name];
  else env[name] = value;
}

/**
 * Runs `work` (loading node-llama-cpp) with the normalised environment; nested and concurrent calls share one
 * patch, restored when the last one ends.
 */
export async function withDependencyEnv<T>(work: () => Promise<T>, env = process.env): Promise<T> {
  if (depth++ === 0) {
    saved = new Map();
    for (const [name, value] of dependencyEnvPatch(env)) {
      saved.set(name, env[name]);
      setVariable(env, name, value);
    }
  }
  try {
    return await work();
  } catch (error) {
    throw envVarErrorToConfigError(error, saved, env) ?? error;
  } finally {
    if (--depth === 0 && saved) {
      for (const [name, value] of saved) setVariable(env, name, value);
      saved = undefined;
    }
  }
}

/**
 * env-var's `EnvVarError` (`env-var: "NAME" should be …`) → `NAME="value" is not valid: node-llama-cpp accepts …`.
 * undefined for any other error.
 */
export function envVarErrorToConfigError(
  error: unknown,
  original: ReadonlyMap<string, string | undefined> | undefined,
  env: NodeJS.ProcessEnv,
): ConfigError | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^env-var: "([^"]+)" (.*)$/s.exec(error.message);
  if (!match) return undefined;
  const name = match[1] ?? '';
  const value = original?.has(name) ? original.get(name) : env[name];
  const accepted = (match[2] ?? '').split('\n')[0]?.replace(/^should be (either )?/, '');
  return new ConfigError(
    `${name}=${JSON.stringify(value ?? '')} is not valid: node-llama-cpp accepts ${accepted}`,
    { code: 'config', hint: `unset ${name}, or set one of the accepted values`, cause: error },
  );
}
