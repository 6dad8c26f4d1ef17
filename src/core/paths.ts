import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { OTHER_ENV } from './env-names.js';
import { registerSecret } from './secrets.js';

/**
 * Every path the tool reads or writes comes from here, resolved exactly as Python's `huggingface_hub`
 * resolves them, so vLLM, transformers and llama.cpp `-hf` share one cache with us.
 * Blank environment values count as unset.
 */

type Env = NodeJS.ProcessEnv;

function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

function homeOf(env: Env): string {
  // HOME wins over the passwd entry, as in Python's expanduser.
  return envValue(env, 'HOME') ?? homedir();
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: Env = process.env): string {
  const home = homeOf(env);
  const explicit = envValue(env, 'HF_HOME');
  if (explicit) return expandHome(explicit, home);
  const xdg = envValue(env, 'XDG_CACHE_HOME');
  return join(xdg ? expandHome(xdg, home) : join(home, '.cache'), 'huggingface');
}

/** `HF_HUB_CACHE` > `HUGGINGFACE_HUB_CACHE` > `$HF_HOME/hub` (with HF_HOME's own fallbacks). */
export function hfHubCacheDir(env: Env = process.env): string {
  const home = homeOf(env);
  const explicit = envValue(env, 'HF_HUB_CACHE') ?? envValue(env, 'HUGGINGFACE_HUB_CACHE');
  return explicit ? expandHome(explicit, home) : join(hfHome(env), 'hub');
}

/** `HF_TOKEN_PATH`, else `$HF_HOME/token`. */
export function hfTokenPath(env: Env = process.env): string {
  const explicit = envValue(env, 'HF_TOKEN_PATH');
  return explicit ? expandHome(explicit, homeOf(env)) : join(hfHome(env), 'token');
}

export type HfTokenSource = 'HF_TOKEN' | 'HUGGING_FACE_HUB_TOKEN' | 'token-file';

export interface HfToken {
  /** The secret. Only the Hub client may read this; it is registered for redaction on read. */
  readonly value: string;
  readonly source: HfTokenSource;
  /** For `token-file`: the file it came from (a path is not a secret). */
  readonly path?: string;
}

/** `HF_TOKEN` > `HUGGING_FACE_HUB_TOKEN` > token file. `undefined` when none is set. */
export function readHfToken(env: Env = process.env): HfToken | undefined {
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const) {
    const value = envValue(env, name);
    if (value) {
      registerSecret(value);
      return { value, source: name };
    }
  }
  const path = hfTokenPath(env);
  if (!existsSync(path)) return undefined;
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!value) return undefined;
  registerSecret(value);
  return { value, source: 'token-file', path };
}

/** The Hub endpoint (`HF_ENDPOINT`), without a trailing slash. */
export function hfEndpoint(env: Env = process.env): string {
  return (envValue(env, 'HF_ENDPOINT') ?? 'https://huggingface.co').replace(/\/+$/, '');
}

const TRUE_VALUES = ['1', 'true', 'yes', 'on'];

function isTrue(value: string | undefined): boolean {
  return TRUE_VALUES.includes((value ?? '').toLowerCase());
}

/**
 * The variable that decides offline mode, as huggingface_hub reads it (constants.py: `HF_HUB_OFFLINE or
 * TRANSFORMERS_OFFLINE`): HF_HUB_OFFLINE when set, whatever its value, else TRANSFORMERS_OFFLINE.
 */
export function hfOfflineVariable(env: Env = process.env): 'HF_HUB_OFFLINE' | 'TRANSFORMERS_OFFLINE' {
  return envValue(env, 'HF_HUB_OFFLINE') === undefined && envValue(env, 'TRANSFORMERS_OFFLINE') !== undefined
    ? 'TRANSFORMERS_OFFLINE'
    : 'HF_HUB_OFFLINE';
}

/** Offline mode (`HF_HUB_OFFLINE`, else `TRANSFORMERS_OFFLINE`): 1/true/yes/on. */
export function hfOffline(env: Env = process.env): boolean {
  return isTrue(envValue(env, hfOfflineVariable(env)));
}

/**
 * `HF_HUB_DISABLE_IMPLICIT_TOKEN` (huggingface_hub utils/_headers.py): a token found in the environment or the
 * token file is not sent by default. We have no explicit token argument, so it is sent only where the Hub
 * says it is needed (401/403 for a gated or private repo).
 */
export function implicitTokenDisabled(env: Env = process.env): boolean {
  return isTrue(envValue(env, 'HF_HUB_DISABLE_IMPLICIT_TOKEN'));
}

/**
 * Our own state (deployment registry): `ATOMR_INFER_HOME`, else `$XDG_STATE_HOME/atomr-infer`,
 * else `~/.local/state/atomr-infer`.
 */
export function stateDir(env: Env = process.env): string {
  const home = homeOf(env);
  const explicit = envValue(env, OTHER_ENV.home);
  if (explicit) return expandHome(explicit, home);
  const xdg = envValue(env, 'XDG_STATE_HOME');
  return join(xdg ? expandHome(xdg, home) : join(home, '.local', 'state'), 'atomr-infer');
}

export function deploymentsFile(env: Env = process.env): string {
  return join(stateDir(env), 'deployments.json');
}

/** Where `bench` appends its JSON-lines results. */
export function benchResultsFile(env: Env = process.env): string {
  return join(stateDir(env), 'bench-results.jsonl');
}

/** What the probe last heard from the Hub about each repo (gating, file sizes), so the next probe need not ask. */
export function hubFactsFile(env: Env = process.env): string {
  return join(stateDir(env), 'hub-facts.json');
}
