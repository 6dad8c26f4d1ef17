import { UsageError } from '../../core/errors.js';
import type { MediaKind } from '../../core/media.js';
import type { ResponseFormat, SamplingParams } from '../../core/model-runner.js';
import { readJsonSchemaFlag } from './json-schema-flag.js';
import { parseNumberFlag, type NumberRule } from '../../core/number-flag.js';
import { parseTargetFlags, type TargetFlags, type TargetOptions } from '../target/flags.js';

/** `atomr-infer chat` flags exactly as commander hands them over (strings; numbers are validated here). */
export interface ChatFlags extends TargetFlags {
  system?: string;
  prompt?: string;
  maxTokens?: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  seed?: string;
  json?: boolean;
  /** `--json-schema <file>`: the answer is JSON valid against the schema in the file. */
  jsonSchema?: string;
  /** `--think`: the model thinks before it answers. */
  think?: boolean;
  /** `--image <path>` / `--audio <path>`, each repeatable: attached to the one prompt. */
  image?: string[];
  audio?: string[];
}

/** Validated chat options: the target flags, plus what only chat has. */
export interface ChatOptions extends TargetOptions {
  system: string | undefined;
  prompt: string | undefined;
  json: boolean;
  /** From `--json-schema`: the answer's format (one answer: needs --prompt or piped stdin). */
  responseFormat: ResponseFormat | undefined;
  /** `--think`. */
  think: boolean;
  sampling: SamplingParams;
  /** `--image` / `--audio` files, in the order given (images first). */
  attachments: { kind: MediaKind; path: string }[];
}

const MAX_UINT32 = 4_294_967_295;

const RULES = {
  maxTokens: { flag: '--max-tokens', integer: true, min: 1, max: 1_048_576 },
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
  seed: { flag: '--seed', integer: true, min: 0, max: MAX_UINT32 },
} as const satisfies Record<string, NumberRule>;

/** Validates every chat flag before anything heavy loads, so a typo costs milliseconds, not a model load. */
export function parseChatOptions(flags: ChatFlags): ChatOptions {
  const sampling: SamplingParams = {};
  const maxTokens = parseNumberFlag(RULES.maxTokens, flags.maxTokens, 'chat');
  const temperature = parseNumberFlag(RULES.temperature, flags.temperature, 'chat');
  const topP = parseNumberFlag(RULES.topP, flags.topP, 'chat');
  const topK = parseNumberFlag(RULES.topK, flags.topK, 'chat');
  const seed = parseNumberFlag(RULES.seed, flags.seed, 'chat');
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

  return {
    ...parseTargetFlags(flags, 'chat'),
    responseFormat: flags.jsonSchema === undefined ? undefined : readJsonSchemaFlag(flags.jsonSchema),
    think: flags.think === true,
    system: flags.system === undefined || flags.system.trim() === '' ? undefined : flags.system,
    prompt: flags.prompt,
    json: flags.json === true,
    sampling,
    attachments: [
      ...(flags.image ?? []).map((path) => ({ kind: 'image' as const, path })),
      ...(flags.audio ?? []).map((path) => ({ kind: 'audio' as const, path })),
    ],
  };
}
