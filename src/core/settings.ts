import { DEFAULT_MODEL, VARIANT_IDS, closestVariantId, isVariantId, type VariantId } from './catalog.js';
import { DEPLOYMENT_NAME_ACCEPTED, isValidDeploymentName } from './deployment-name.js';
import { DECIMAL, INTEGER } from './number-flag.js';
import { ENV } from './env-names.js';
import { ConfigError, UsageError } from './errors.js';

/**
 * Settings shared by every command. Precedence: flag > environment > default.
 * Every value is validated; a malformed one is a one-line error naming the variable (or flag), the value and
 * what is accepted. Empty or blank environment values count as unset.
 */

export const RUNTIMES = ['auto', 'vllm', 'llama-cpp'] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];

export const AUTO_ON = ['1', 'true', 'yes', 'on'] as const;
export const AUTO_OFF = ['0', 'false', 'no', 'off', 'skip'] as const;
export const AUTO_SKIP_QUIETLY = 'skip-quietly';
export type AutoProvision = 'on' | 'off' | 'skip-quietly';

export const DEFAULT_DEPLOYMENT = 'gemma-local';
export const DEFAULT_GPU_UTIL = 0.5;

export interface Settings {
  readonly auto: AutoProvision;
  readonly model: VariantId;
  readonly deployment: string;
  readonly gpuMemoryUtilization: number;
  readonly maxModelLen: number | undefined;
  readonly runtime: RuntimeChoice;
  readonly cpuOffloadGb: number | undefined;
  /** Interpreter for the vLLM path: `ATOMR_INFER_PYTHON`, else `python3` from PATH. */
  readonly python: string;
  /** `ATOMR_INFER_GEMMA_GGUF`: `hf:<repo>[:<quant>]`, `hf:<repo>/<file>` or a local path. */
  readonly ggufOverride: string | undefined;
  /**
   * vLLM: `multimodal` (images and audio; the encoders are profiled at start-up and need GPU memory) or
   * `text-only` (limit_mm_per_prompt 0 for every modality: vLLM skips the encoders' profiling).
   */
  readonly media: MediaChoice;
}

export const MEDIA_CHOICES = ['multimodal', 'text-only'] as const;
export type MediaChoice = (typeof MEDIA_CHOICES)[number];

export { ENV };

/** Flags that override a setting, as the user types them. */
export interface SettingFlags {
  model?: string | undefined;
  runtime?: string | undefined;
  deployment?: string | undefined;
  maxLen?: string | number | undefined;
  gpuUtil?: string | number | undefined;
  media?: string | undefined;
}

const FLAG_NAMES: Partial<Record<keyof Settings, string>> = {
  model: '--model',
  runtime: '--runtime',
  deployment: '--deployment',
  maxModelLen: '--ctx',
  gpuMemoryUtilization: '--gpu-util',
  media: '--media',
};

/**
 * One parser per setting: text in, value out, or `undefined` when the text is not acceptable.
 * Deliberately not zod: these are nine scalars, and loading zod (~65 ms idle) was most of `probe`'s time budget.
 */
interface Parser<T> {
  parse(text: string): T | undefined;
  accepted: string;
}

function decimal(text: string): number | undefined {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : undefined;
}

function oneOf<T extends string>(values: readonly T[], text: string): T | undefined {
  return (values as readonly string[]).includes(text) ? (text as T) : undefined;
}

const PARSERS = {
  auto: {
    parse: (text: string): AutoProvision | undefined => {
      const value = text.trim().toLowerCase();
      if (oneOf(AUTO_ON, value)) return 'on';
      if (oneOf(AUTO_OFF, value)) return 'off';
      return value === AUTO_SKIP_QUIETLY ? 'skip-quietly' : undefined;
    },
    accepted: `one of ${[...AUTO_ON, ...AUTO_OFF, AUTO_SKIP_QUIETLY].join(', ')}`,
  },
  deployment: {
    parse: (text: string) => {
      const value = text.trim();
      return isValidDeploymentName(value) ? value : undefined;
    },
    accepted: DEPLOYMENT_NAME_ACCEPTED,
  },
  gpuMemoryUtilization: {
    parse: (text: string) => {
      const value = decimal(text);
      return value !== undefined && value > 0 && value <= 1 ? value : undefined;
    },
    accepted: 'a number greater than 0 and at most 1 (e.g. 0.5)',
  },
  maxModelLen: {
    parse: (text: string) => {
      const value = text.trim();
      if (!INTEGER.test(value)) return undefined;
      const tokens = Number(value);
      return tokens > 0 && tokens <= 1_048_576 ? tokens : undefined;
    },
    accepted: 'a positive integer number of tokens (e.g. 8192)',
  },
  runtime: {
    parse: (text: string) => oneOf(RUNTIMES, text),
    accepted: `one of ${RUNTIMES.join(', ')}`,
  },
  cpuOffloadGb: {
    parse: (text: string) => {
      const value = decimal(text);
      return value !== undefined && value >= 0 ? value : undefined;
    },
    accepted: 'a number of GB greater than or equal to 0',
  },
  python: {
    parse: (text: string) => text.trim() || undefined,
    accepted: 'a path to a Python interpreter',
  },
  media: {
    parse: (text: string) => oneOf(MEDIA_CHOICES, text.trim().toLowerCase()),
    accepted: `one of ${MEDIA_CHOICES.join(', ')}`,
  },
  ggufOverride: {
    parse: (text: string) => text.trim() || undefined,
    accepted: 'hf:<repo>[:<quant>], hf:<repo>/<file>.gguf or a path',
  },
} satisfies { [K in keyof Settings]?: Parser<unknown> };

type Source = { kind: 'env'; name: string } | { kind: 'flag'; name: string };

function fail(source: Source, raw: string, accepted: string, hint?: string): never {
  const what =
    source.kind === 'env' ? `${source.name}=${JSON.stringify(raw)}` : `${source.name} ${JSON.stringify(raw)}`;
  const message = `${what} is not valid: expected ${accepted}`;
  const options = hint === undefined ? {} : { hint };
  throw source.kind === 'env' ? new ConfigError(message, options) : new UsageError(message, options);
}

function pick(
  key: keyof Settings,
  env: NodeJS.ProcessEnv,
  flag: string | number | undefined,
): { raw: string; source: Source } | undefined {
  const flagName = FLAG_NAMES[key];
  if (flag !== undefined && flagName !== undefined && String(flag).trim() !== '') {
    return { raw: String(flag), source: { kind: 'flag', name: flagName } };
  }
  const envName = ENV[key];
  const value = env[envName];
  if (value === undefined || value.trim() === '') return undefined;
  return { raw: value, source: { kind: 'env', name: envName } };
}

function parseWith<K extends keyof typeof PARSERS>(
  key: K,
  picked: { raw: string; source: Source },
): NonNullable<ReturnType<(typeof PARSERS)[K]['parse']>> {
  const parser: Parser<unknown> = PARSERS[key];
  const value = parser.parse(picked.raw);
  if (value === undefined) fail(picked.source, picked.raw, parser.accepted);
  return value as NonNullable<ReturnType<(typeof PARSERS)[K]['parse']>>;
}

/** Validates a model id from any source, suggesting the closest supported id. */
export function parseModelId(raw: string, sourceName: string, kind: 'env' | 'flag' = 'flag'): VariantId {
  const trimmed = raw.trim();
  if (isVariantId(trimmed)) return trimmed;
  const suggestion = closestVariantId(trimmed);
  fail(
    { kind, name: sourceName },
    raw,
    `a supported model (${VARIANT_IDS.join(', ')})`,
    `did you mean ${suggestion}?`,
  );
}

export function resolveSettings(env: NodeJS.ProcessEnv = process.env, flags: SettingFlags = {}): Settings {
  const auto = pick('auto', env, undefined);
  const model = pick('model', env, flags.model);
  const deployment = pick('deployment', env, flags.deployment);
  const gpuUtil = pick('gpuMemoryUtilization', env, flags.gpuUtil);
  const maxLen = pick('maxModelLen', env, flags.maxLen);
  const runtime = pick('runtime', env, flags.runtime);
  const offload = pick('cpuOffloadGb', env, undefined);
  const python = pick('python', env, undefined);
  const gguf = pick('ggufOverride', env, undefined);
  const media = pick('media', env, flags.media);

  return {
    auto: auto ? parseWith('auto', auto) : 'on',
    model: model ? parseModelId(model.raw, model.source.name, model.source.kind) : DEFAULT_MODEL,
    deployment: deployment ? parseWith('deployment', deployment) : DEFAULT_DEPLOYMENT,
    gpuMemoryUtilization: gpuUtil ? parseWith('gpuMemoryUtilization', gpuUtil) : DEFAULT_GPU_UTIL,
    maxModelLen: maxLen ? parseWith('maxModelLen', maxLen) : undefined,
    runtime: runtime ? parseWith('runtime', runtime) : 'auto',
    cpuOffloadGb: offload ? parseWith('cpuOffloadGb', offload) : undefined,
    python: python ? parseWith('python', python) : 'python3',
    ggufOverride: gguf ? parseWith('ggufOverride', gguf) : undefined,
    media: media ? parseWith('media', media) : 'multimodal',
  };
}
