import { UsageError } from '../../core/errors.js';
import type { SamplingParams } from '../../core/model-runner.js';
import { DECIMAL } from '../../core/settings.js';
import { defaultThreadCount, usableCpuCount } from '../../core/cpu-threads.js';

/** The llama-cpp runner's own ceiling for its `threads` setting. */
const MAX_THREADS = 256;

/** `atomr-infer chat` flags exactly as commander hands them over (strings; numbers are validated here). */
export interface ChatFlags {
  model?: string;
  runtime?: string;
  system?: string;
  prompt?: string;
  maxTokens?: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  seed?: string;
  ctx?: string;
  threads?: string;
  json?: boolean;
  /** `--yes`: provision gemma-local without asking when it does not exist yet. */
  yes?: boolean;
  /** `--endpoint <url>`: with `--runtime remote`, an OpenAI-compatible endpoint. */
  endpoint?: string;
}

/** Validated chat options. `ctx` and `runtime` are validated later by resolveSettings (flag > env > default). */
export interface ChatOptions {
  model: string | undefined;
  runtime: string | undefined;
  ctx: string | undefined;
  system: string | undefined;
  prompt: string | undefined;
  json: boolean;
  /** Download without asking when gemma-local must be provisioned first. */
  yes?: boolean;
  sampling: SamplingParams;
  threads: number | undefined;
  /** With `--runtime remote`: the OpenAI-compatible endpoint (validated by remoteRunnerSpec). */
  endpoint?: string | undefined;
}

interface NumberRule {
  flag: string;
  integer: boolean;
  min: number;
  max: number;
  /** Exclusive lower bound (`> min` instead of `>= min`). */
  minExclusive?: boolean;
  accepted: string;
}

const MAX_UINT32 = 4_294_967_295;

const RULES = {
  maxTokens: {
    flag: '--max-tokens',
    integer: true,
    min: 1,
    max: 1_048_576,
    accepted: 'an integer from 1 to 1048576',
  },
  temperature: {
    flag: '--temperature',
    integer: false,
    min: 0,
    max: 2,
    accepted: 'a number from 0 to 2 (0 = greedy)',
  },
  topP: {
    flag: '--top-p',
    integer: false,
    min: 0,
    max: 1,
    minExclusive: true,
    accepted: 'a number greater than 0 and at most 1',
  },
  topK: {
    flag: '--top-k',
    integer: true,
    min: 0,
    max: 1_000_000,
    accepted: 'an integer from 0 (off) to 1000000',
  },
  seed: {
    flag: '--seed',
    integer: true,
    min: 0,
    max: MAX_UINT32,
    accepted: `an integer from 0 to ${MAX_UINT32}`,
  },
} as const satisfies Record<string, NumberRule>;

const INTEGER = /^[+]?\d+$/;

/** Parses one numeric flag; a one-line UsageError naming the flag, the value and the accepted range otherwise. */
export function parseNumberFlag(
  rule: NumberRule & { hint?: string },
  raw: string | undefined,
  command = 'chat',
): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const value = (rule.integer ? INTEGER : DECIMAL).test(text) ? Number(text) : Number.NaN;
  const aboveMin = rule.minExclusive ? value > rule.min : value >= rule.min;
  if (!Number.isFinite(value) || !aboveMin || value > rule.max) {
    throw new UsageError(`${rule.flag} ${JSON.stringify(raw)} is not valid: expected ${rule.accepted}`, {
      hint: rule.hint ?? `see \`atomr-infer ${command} --help\``,
    });
  }
  return value;
}

/**
 * `--threads` (chat, serve, bench): 1 to the CPUs this process may use. More is refused rather than clamped: the
 * user typed the number, llama.cpp users expect it honoured, and honouring it oversubscribes the CPUs so badly
 * that decoding never finishes (see usableCpuCount). The refusal costs milliseconds and names the range.
 */
export function threadsRule(usable = usableCpuCount()): NumberRule & { hint: string } {
  const max = Math.min(MAX_THREADS, usable);
  const cpus = `${usable} CPU${usable === 1 ? '' : 's'}`;
  return {
    flag: '--threads',
    integer: true,
    min: 1,
    max,
    accepted: `an integer from 1 to ${max} (this process may use ${cpus})`,
    hint: `more threads than CPUs stall llama.cpp; omit --threads for the default (${defaultThreadCount()} here)`,
  };
}

/** Validates every chat flag before anything heavy loads, so a typo costs milliseconds, not a model load. */
export function parseChatOptions(flags: ChatFlags, command = 'chat'): ChatOptions {
  const sampling: SamplingParams = {};
  const maxTokens = parseNumberFlag(RULES.maxTokens, flags.maxTokens, command);
  const temperature = parseNumberFlag(RULES.temperature, flags.temperature, command);
  const topP = parseNumberFlag(RULES.topP, flags.topP, command);
  const topK = parseNumberFlag(RULES.topK, flags.topK, command);
  const seed = parseNumberFlag(RULES.seed, flags.seed, command);
  if (maxTokens !== undefined) sampling.maxTokens = maxTokens;
  if (temperature !== undefined) sampling.temperature = temperature;
  if (topP !== undefined) sampling.topP = topP;
  if (topK !== undefined) sampling.topK = topK;
  if (seed !== undefined) sampling.seed = seed;

  if (flags.prompt !== undefined && flags.prompt.trim() === '') {
    // Quote what the user gave (JSON.stringify shows "   " as typed), so a blank prompt is not reported as "".
    throw new UsageError(
      `--prompt ${JSON.stringify(flags.prompt)} is not valid: expected a prompt with some text`,
      {
        hint: 'omit --prompt to chat interactively, or pipe the prompt on stdin',
      },
    );
  }
  if (flags.model !== undefined && flags.model.trim() === '') {
    throw new UsageError('--model "" is not valid: expected a model id or a path to a .gguf file');
  }

  return {
    model: flags.model?.trim(),
    runtime: flags.runtime,
    ctx: flags.ctx,
    system: flags.system === undefined || flags.system.trim() === '' ? undefined : flags.system,
    prompt: flags.prompt,
    json: flags.json === true,
    yes: flags.yes === true,
    sampling,
    threads: parseNumberFlag(threadsRule(), flags.threads, command),
    endpoint: flags.endpoint?.trim(),
  };
}
