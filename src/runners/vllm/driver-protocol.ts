import { ENV } from '../../core/env-names.js';
import { type AtomrError, ModelError, RuntimeFailure, UsageError } from '../../core/errors.js';
import { redactSecrets } from '../../core/secrets.js';

/**
 * The JSON documents exchanged with python/atomr_infer/vllm_driver.py. Parsed by hand: `step` is on the hot path
 * (once per engine step) and its shape is ours on both sides.
 */

export type DriverErrorKind =
  'vllm-missing' | 'vllm-import-failed' | 'model' | 'out-of-memory' | 'engine' | 'bridge';

export interface DriverError {
  kind: DriverErrorKind;
  message: string;
  /** For a missing module: which one. */
  module?: string | null;
}

export interface LaunchInfo {
  engineId: string;
  vllmVersion: string;
  device: string | null;
  maxModelLen: number | null;
  chatTemplate: boolean;
}

export type StepFinish = 'stop' | 'length' | 'abort' | 'error';

export interface StepEvent {
  id: string;
  text: string;
  finish: StepFinish | null;
  promptTokens?: number;
  outputTokens?: number;
  cachedTokens?: number;
  /** Tokens inside thought channels; on the finishing event of a thinking request, when countable. */
  reasoningTokens?: number;
  error?: string;
  /** `media`: the request's images or audio could not be given to the engine (the request's fault, not the engine's). */
  errorKind?: 'media';
}

export interface StepResult {
  events: StepEvent[];
  /** Python-side engine steps run during this call. */
  steps: number;
  /** Requests the engine is still working on. */
  pending: number;
  /** Time spent inside the driver's `step` (ms), to tell bridge cost from engine cost. */
  pyMs: number;
}

/** What the runner sends with each step: the requests to add and abort before the engine runs. */
export interface StepCommands {
  add: AddCommand[];
  abort: string[];
  budgetMs?: number;
}

/** A message's content: text, or the processor's parts (a media part is its placeholder; bytes go in `media`). */
export type DriverContent =
  string | ({ type: 'text'; text: string } | { type: 'image' } | { type: 'audio' })[];

/** One attachment, base64: the driver decodes it (Pillow, soundfile) into what vLLM's engine takes. */
export type DriverMedia =
  { kind: 'image'; data: string; mediaType: string } | { kind: 'audio'; data: string; format: string };

export interface AddCommand {
  id: string;
  messages: { role: string; content: DriverContent; tool_call_id?: string; tool_calls?: unknown[] }[];
  mode: 'chat' | 'completion';
  /** `vllm.SamplingParams(**sampling)`, snake_case. */
  sampling: Record<string, unknown>;
  /** Render with `enable_thinking` (Gemma 4's chat template adds `<|think|>`); absent: thinking off. */
  thinking?: boolean;
  /** Structured outputs: `{json: schema}` or `{json_object: true}` (the driver picks vLLM's spelling). */
  structured?: { json: Record<string, unknown> } | { json_object: true };
  /** The media of `messages`' image/audio parts, in prompt order (`multi_modal_data`). */
  media?: DriverMedia[];
  /** Passed to the chat template as `tools` (OpenAI's function shape), which declares them to the model. */
  tools?: { type: 'function'; function: { name: string; description?: string; parameters: unknown } }[];
}

type Envelope<T> = ({ ok: true } & T) | { ok: false; error: DriverError };

function parseEnvelope<T>(raw: string, what: string): Envelope<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new RuntimeFailure(`the vLLM driver returned malformed JSON from ${what}`, { code: 'bridge' });
  }
  if (typeof value !== 'object' || value === null || typeof (value as { ok?: unknown }).ok !== 'boolean') {
    throw new RuntimeFailure(`the vLLM driver returned an unexpected document from ${what}`, {
      code: 'bridge',
    });
  }
  return value as Envelope<T>;
}

export function parseLaunch(raw: string): Envelope<LaunchInfo> {
  const result = parseEnvelope<LaunchInfo>(raw, 'launch');
  if (result.ok && typeof result.engineId !== 'string') {
    throw new RuntimeFailure('the vLLM driver did not name the engine it launched', { code: 'bridge' });
  }
  return result;
}

/** Parses a `step` answer; a driver-side failure becomes a RuntimeFailure for every request of the engine. */
export function parseStep(raw: string): StepResult {
  const result = parseEnvelope<StepResult>(raw, 'step');
  if (!result.ok) {
    throw new RuntimeFailure(`the vLLM engine step failed: ${redactSecrets(result.error.message)}`, {
      code: 'vllm-engine',
    });
  }
  if (!Array.isArray(result.events)) {
    throw new RuntimeFailure('the vLLM driver returned a step without events', { code: 'bridge' });
  }
  return result;
}

export function pipHint(python: string): string {
  return `install it with: ${python} -m pip install vllm (or set ${ENV.python} to a Python that has it)`;
}

/**
 * Why an engine did not start. A missing or broken vLLM is a RuntimeFailure (exit 5), not a ModelError: the
 * weights are fine and re-downloading them would not help; the fix is the Python environment, which the hint names.
 */
export function launchError(error: DriverError, python: string, model: string): AtomrError {
  const message = redactSecrets(error.message);
  switch (error.kind) {
    case 'vllm-missing':
      return new RuntimeFailure(`vLLM is not installed for ${python}`, {
        code: 'vllm-missing',
        hint: pipHint(python),
      });
    case 'vllm-import-failed':
      return new RuntimeFailure(`importing vLLM failed in ${python}: ${message}`, {
        code: 'vllm-import-failed',
        hint: `vLLM must match this machine's CUDA and PyTorch: ${python} -m pip install --upgrade vllm`,
      });
    case 'model':
      return new ModelError(`vLLM could not load ${model}: ${message}`, {
        code: 'vllm-model',
        hint: 'check the model id; for a gated model accept its license on huggingface.co and set HF_TOKEN',
      });
    case 'out-of-memory':
      return new RuntimeFailure(`vLLM ran out of GPU memory loading ${model}: ${message}`, {
        code: 'vllm-out-of-memory',
        hint: 'lower the context length (--ctx), raise ATOMR_INFER_GEMMA_GPU_UTIL, or choose a smaller model',
      });
    default:
      return new RuntimeFailure(`vLLM failed to start ${model}: ${message}`, {
        code: 'vllm-engine',
        hint: "the engine's log lines above say why",
      });
  }
}

/**
 * A single request the engine refused (prompt too long, bad sampling value): the others carry on. Media the driver
 * could not decode is the request's fault: a UsageError (serve: 400).
 */
export function requestError(
  requestId: string,
  message: string | undefined,
  kind?: 'media',
): RuntimeFailure | UsageError {
  const text = redactSecrets(message ?? 'unknown error');
  if (kind === 'media') return new UsageError(`request ${requestId}: ${text}`, { code: 'invalid_media' });
  const tooLong = /maximum model length|max_model_len|too long/i.test(text);
  return new RuntimeFailure(`vLLM rejected request ${requestId}: ${text}`, {
    code: 'vllm-request',
    hint: tooLong ? 'shorten the conversation or start the model with a longer context (--ctx)' : undefined,
  });
}
