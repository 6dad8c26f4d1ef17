import { OTHER_ENV } from '../core/env-names.js';
import { ConfigError, UsageError } from '../core/errors.js';
import { integerRule, parseNumberFlag } from '../core/number-flag.js';
import { registerSecret } from '../core/secrets.js';
import type { LogFormat, LogLevel } from './logging.js';
import type { RemoteMediaPolicy } from './media-parts.js';

/**
 * `atomr-infer serve` flags → validated options, before anything heavy loads: a typo costs milliseconds, and
 * each error names the flag, the value and what is accepted.
 */

/** The key clients must send; `--api-key` wins (but shows in `ps`), so the environment is the better place. */
export const SERVE_API_KEY_ENV = OTHER_ENV.serveApiKey;

export interface ServeFlags {
  host?: string;
  port?: string;
  parallel?: string;
  queue?: string;
  apiKey?: string;
  shutdownTimeout?: string;
  bodyLimitMb?: string;
  logFormat?: string;
  logLevel?: string;
  /** `--allow-remote-media`: true (flag alone), or its value. */
  allowRemoteMedia?: string | boolean;
}

export interface ServeCliOptions {
  host: string;
  port: number;
  parallel: number;
  maxQueue: number;
  apiKey: string | undefined;
  shutdownGraceMs: number;
  bodyLimit: number;
  logFormat: LogFormat;
  logLevel: LogLevel;
  /** Whether image_url http(s) URLs are fetched, and from which addresses (serve/media-parts.ts). */
  remoteMedia: RemoteMediaPolicy;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  parallel: 4,
  queue: 64,
  shutdownTimeoutSeconds: 10,
  bodyLimitMb: 4,
} as const;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** An integer flag from `min` to `max`, or `fallback` when absent (the one numeric-flag parser, core/number-flag). */
function integerFlag(
  flag: string,
  raw: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  return parseNumberFlag(integerRule(flag, min, max), raw, 'serve') ?? fallback;
}

export function parseServeFlags(
  flags: ServeFlags,
  env: NodeJS.ProcessEnv = process.env,
  stderrIsTty = process.stderr.isTTY === true,
): ServeCliOptions {
  // `[::1]` as in a URL: listen() wants the bare address.
  const host = (flags.host ?? SERVE_DEFAULTS.host).trim().replace(/^\[(.*)\]$/, '$1');
  if (host === '')
    throw new UsageError('--host "" is not valid: expected an address such as 127.0.0.1 or 0.0.0.0');
  const apiKey = pickApiKey(flags.apiKey, env);
  const logFormat = flags.logFormat?.trim() ?? (stderrIsTty ? 'pretty' : 'json');
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    throw new UsageError(
      `--log-format ${JSON.stringify(flags.logFormat)} is not valid: expected json or pretty`,
    );
  }
  const logLevel = (flags.logLevel?.trim() ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(
      `--log-level ${JSON.stringify(flags.logLevel)} is not valid: expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  return {
    host,
    remoteMedia: remoteMediaPolicy(flags.allowRemoteMedia),
    port: integerFlag('--port', flags.port, 0, 65_535, SERVE_DEFAULTS.port),
    parallel: integerFlag('--parallel', flags.parallel, 1, 64, SERVE_DEFAULTS.parallel),
    maxQueue: integerFlag('--queue', flags.queue, 0, 100_000, SERVE_DEFAULTS.queue),
    apiKey,
    shutdownGraceMs:
      integerFlag(
        '--shutdown-timeout',
        flags.shutdownTimeout,
        0,
        3600,
        SERVE_DEFAULTS.shutdownTimeoutSeconds,
      ) * 1000,
    bodyLimit:
      integerFlag('--body-limit-mb', flags.bodyLimitMb, 1, 1024, SERVE_DEFAULTS.bodyLimitMb) * 1024 * 1024,
    logFormat,
    logLevel,
  };
}

/** `--allow-remote-media` alone: public addresses; `=public` the same; `=any`: private networks too. */
function remoteMediaPolicy(flag: string | boolean | undefined): RemoteMediaPolicy {
  if (flag === undefined || flag === false) return 'off';
  if (flag === true) return 'public';
  const value = flag.trim().toLowerCase();
  if (value === 'public' || value === 'any') return value;
  throw new UsageError(
    `--allow-remote-media ${JSON.stringify(flag)} is not valid: expected no value, public or any`,
  );
}

function pickApiKey(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) {
    const key = flag.trim();
    if (key.length < 8) {
      throw new UsageError('--api-key is too short: expected at least 8 characters', {
        hint: `prefer the ${SERVE_API_KEY_ENV} environment variable (flags show in \`ps\`)`,
      });
    }
    registerSecret(key);
    return key;
  }
  const fromEnv = env[SERVE_API_KEY_ENV]?.trim();
  if (!fromEnv) return undefined;
  if (fromEnv.length < 8) {
    throw new ConfigError(`${SERVE_API_KEY_ENV} is too short: expected at least 8 characters`);
  }
  registerSecret(fromEnv);
  return fromEnv;
}
