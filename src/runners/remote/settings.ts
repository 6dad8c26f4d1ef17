import { z } from 'zod';
import { OTHER_ENV } from '../../core/env-names.js';
import { ConfigError } from '../../core/errors.js';
import { timeoutFromEnv } from '../../core/http-timeouts.js';
import { registerSecret } from '../../core/secrets.js';

/**
 * The remote runner's own settings (RunnerSpec.settings for runtime `remote`), validated here so a deployment
 * file with a typo fails with one line naming the key. The API key itself should live in the environment:
 * deployments store only the variable's name (`apiKeyEnv`), never the secret.
 */

/**
 * Until the response headers: an OpenAI-compatible server sends them as soon as it accepts a streamed request,
 * so a few seconds is plenty, and a timeout is retried once at most. A body may then be silent (queued, a long
 * prompt being read) for up to `idle` between two chunks.
 */
export const DEFAULT_TIMEOUT_SECONDS = { connect: 10, idle: 120 } as const;

/** Read when neither `apiKey` nor `apiKeyEnv` is set, in this order. */
export const DEFAULT_API_KEY_ENVS = [OTHER_ENV.remoteApiKey, 'OPENAI_API_KEY'] as const;

const positiveInt = z.number().int().positive();

const settingsSchema = z
  .object({
    /** Base URL of the OpenAI-compatible API, e.g. `http://10.0.0.5:8000/v1`; a bare host gets `/v1`. */
    endpoint: z.string().min(1),
    apiKey: z.string().min(1).optional(),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    /** The model name the endpoint serves; defaults to the spec's `model`. */
    model: z.string().min(1).optional(),
    /** A label for transportKind/describe (e.g. `vllm-cluster`); defaults to the endpoint's host. */
    provider: z.string().min(1).optional(),
    /** `completion` for base models: `/completions` instead of `/chat/completions`. */
    mode: z.enum(['chat', 'completion']).optional(),
    prices: z
      .object({
        inputUsdPerMillionTokens: z.number().nonnegative().optional(),
        outputUsdPerMillionTokens: z.number().nonnegative().optional(),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        requestsPerMinute: positiveInt.optional(),
        tokensPerMinute: positiveInt.optional(),
        maxConcurrent: positiveInt.optional(),
      })
      .strict()
      .optional(),
    timeouts: z
      .object({
        /** Until the response headers arrive (connecting included); default ATOMR_INFER_REMOTE_TIMEOUT or 10 s. */
        connectMs: positiveInt.optional(),
        /** The longest silence allowed in a body; default ATOMR_INFER_REMOTE_IDLE_TIMEOUT or 120 s. */
        idleMs: positiveInt.optional(),
      })
      .strict()
      .optional(),
    retries: z
      .object({
        /** Retries after the first try (0 = none). */
        maxRetries: z.number().int().min(0).max(20).optional(),
        baseDelayMs: z.number().int().min(0).optional(),
        maxDelayMs: z.number().int().min(0).optional(),
        /** A server's Retry-After above this fails the request instead of stalling it. */
        maxRetryAfterMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    /** The output length assumed by estimateCostUsd and the tokens/min budget when a request sets none. */
    defaultMaxTokens: positiveInt.optional(),
  })
  .strict();

export interface RemoteSettings {
  /** Normalised base URL without credentials and without a trailing slash. */
  endpoint: string;
  /** Where the key comes from, for messages (never the key itself). */
  apiKeySource: string | undefined;
  apiKeyEnv: string | undefined;
  model: string;
  provider: string;
  mode: 'chat' | 'completion';
  prices: { inputUsdPerMillionTokens: number; outputUsdPerMillionTokens: number };
  limits: { requestsPerMinute?: number; tokensPerMinute?: number; maxConcurrent?: number };
  timeouts: { connectMs: number; idleMs: number };
  retries: { maxRetries: number; baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number };
  defaultMaxTokens: number;
}

export interface ParsedRemoteSettings {
  settings: RemoteSettings;
  /** Kept apart from `settings` so that printing the settings can never print the key. */
  apiKey: string | undefined;
}

/** Validates raw settings and resolves the key: `apiKey` > `$apiKeyEnv` > ATOMR_INFER_REMOTE_API_KEY > OPENAI_API_KEY. */
export function parseRemoteSettings(
  raw: Record<string, unknown>,
  specModel: string,
  env: NodeJS.ProcessEnv = process.env,
): ParsedRemoteSettings {
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `settings.${issue.path.join('.')}` : 'settings';
    const what = issue?.code === 'unrecognized_keys' ? issue.message : `${issue?.message ?? 'invalid'}`;
    throw new ConfigError(`remote runner ${where} is not valid: ${what}`, {
      code: 'remote-settings',
      hint: 'accepted: endpoint, apiKeyEnv, model, provider, mode, prices, limits, timeouts, retries, defaultMaxTokens',
    });
  }
  const input = result.data;
  const endpoint = normaliseEndpoint(input.endpoint);
  const key = resolveApiKey(input.apiKey, input.apiKeyEnv, env);
  return {
    apiKey: key.value,
    settings: {
      endpoint: endpoint.href,
      apiKeySource: key.source,
      apiKeyEnv: input.apiKeyEnv,
      model: input.model ?? specModel,
      provider: input.provider ?? endpoint.host,
      mode: input.mode ?? 'chat',
      prices: {
        inputUsdPerMillionTokens: input.prices?.inputUsdPerMillionTokens ?? 0,
        outputUsdPerMillionTokens: input.prices?.outputUsdPerMillionTokens ?? 0,
      },
      limits: { ...input.limits },
      timeouts: {
        connectMs:
          input.timeouts?.connectMs ??
          timeoutFromEnv(env, OTHER_ENV.remoteTimeout, DEFAULT_TIMEOUT_SECONDS.connect),
        idleMs:
          input.timeouts?.idleMs ??
          timeoutFromEnv(env, OTHER_ENV.remoteIdleTimeout, DEFAULT_TIMEOUT_SECONDS.idle),
      },
      retries: {
        maxRetries: input.retries?.maxRetries ?? 3,
        baseDelayMs: input.retries?.baseDelayMs ?? 500,
        maxDelayMs: input.retries?.maxDelayMs ?? 8_000,
        maxRetryAfterMs: input.retries?.maxRetryAfterMs ?? 60_000,
      },
      defaultMaxTokens: input.defaultMaxTokens ?? 512,
    },
  };
}

/** Accepts `http(s)://host[:port][/path]`; a bare host (no path) gets `/v1`, as every OpenAI client assumes. */
export function normaliseEndpoint(raw: string): { href: string; host: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw badEndpoint(raw);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badEndpoint(raw);
  if (url.username || url.password) {
    registerSecret(decodeURIComponent(url.password));
    throw new ConfigError('remote endpoint must not carry credentials in the URL', {
      code: 'remote-settings',
      hint: 'put the key in ATOMR_INFER_REMOTE_API_KEY (or the variable named by apiKeyEnv)',
    });
  }
  url.search = '';
  url.hash = '';
  let path = url.pathname.replace(/\/+$/, '');
  if (path === '') path = '/v1';
  return { href: `${url.origin}${path}`, host: url.host };
}

function badEndpoint(raw: string): ConfigError {
  return new ConfigError(
    `remote endpoint ${JSON.stringify(raw)} is not valid: expected an http(s) URL such as http://127.0.0.1:8000/v1`,
    { code: 'remote-settings' },
  );
}

function resolveApiKey(
  explicit: string | undefined,
  envName: string | undefined,
  env: NodeJS.ProcessEnv,
): { value: string | undefined; source: string | undefined } {
  if (explicit !== undefined) {
    registerSecret(explicit);
    return { value: explicit.trim(), source: 'settings.apiKey' };
  }
  const names = envName ? [envName] : DEFAULT_API_KEY_ENVS;
  for (const name of names) {
    // Own properties only: `apiKeyEnv: "toString"` must find no variable, not Object.prototype.toString.
    const value = Object.hasOwn(env, name) ? env[name]?.trim() : undefined;
    if (value) {
      registerSecret(value);
      return { value, source: name };
    }
  }
  return { value: undefined, source: undefined };
}
