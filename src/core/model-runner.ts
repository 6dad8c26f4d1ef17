import { UsageError } from './errors.js';
import type { AudioFormat, ImageMediaType, MediaKind } from './media.js';

/**
 * The ModelRunner seam: every back-end (llama.cpp, vLLM, a remote OpenAI-compatible endpoint) implements this,
 * so the CLI, the TUI and `serve` never know which one they drive.
 */

export type Role = 'system' | 'user' | 'assistant' | 'tool';

/**
 * A message part: text, an image (its bytes and media type) or audio (its bytes and format). Media arrive as bytes
 * whatever their source (a data URL, a fetched URL, a file), checked by core/media.ts, so every runner gets one shape.
 */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; data: Uint8Array; mediaType: ImageMediaType }
  | { type: 'audio'; data: Uint8Array; format: AudioFormat };

export interface Message {
  role: Role;
  content: string | ContentPart[];
  /** For `tool` messages: the call this answers. */
  toolCallId?: string;
  /** For `assistant` messages: the tools it called (their results follow as `tool` messages). */
  toolCalls?: ToolCall[];
}

/** A function the model may call: its name, what it does, and a JSON Schema of its arguments. */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
}

/** `auto`: the model decides; `none`: no calls; `required`: some call; `{name}`: that function. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A call the model made: `arguments` is a JSON object as a string (OpenAI's shape). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface SamplingParams {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stop?: string[];
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Same seed, same prompt, same runner settings ⇒ same text. */
  seed?: number;
}

/**
 * Constrained output: `json_object` (any JSON object) or `json_schema` (JSON valid against `schema`). Every runner
 * constrains decoding to it (llama.cpp: a grammar; vLLM: structured outputs; remote: the endpoint's), or refuses
 * the batch with a UsageError — never unconstrained text in its place.
 */
export type ResponseFormat =
  { type: 'json_object' } | { type: 'json_schema'; name?: string; schema: Record<string, unknown> };

export interface ExecuteBatch {
  /** Our own id; runners demultiplex by it even when the engine assigns its own. */
  requestId: string;
  model: string;
  messages: Message[];
  sampling: SamplingParams;
  stream: boolean;
  /**
   * `chat` renders `messages` with the model's chat template; `completion` feeds their text verbatim
   * (base variants, `/v1/completions`). Defaults to what the model supports.
   */
  mode?: 'chat' | 'completion';
  /** Constrain the answer to JSON (see ResponseFormat); absent: free text. */
  responseFormat?: ResponseFormat;
  /** Functions the model may call; a runner that cannot offer tools refuses the batch (`unsupported_tools`). */
  tools?: ToolDefinition[];
  /** How the tools may be used (default `auto` when tools are given). */
  toolChoice?: ToolChoice;
  /**
   * Let the model think first (Gemma 4: `<|think|>` in the system turn). The thought streams as `thoughtDelta`,
   * apart from the answer's `textDelta`, and never into it. Absent or false: no thinking.
   */
  thinking?: boolean;
}

export interface TokenUsage {
  input: number;
  output: number;
  /** Prompt tokens served from a prefix/KV cache. */
  cached: number;
  /** Of `output`, the tokens of the thought (thinking on), when the runner counts them. */
  reasoning?: number;
}

/** `stop`: end of turn or a stop string; `length`: max tokens or context; `abort`: cancelled; `error`: failed. */
export type FinishReason = 'stop' | 'length' | 'abort' | 'error' | 'tool_calls';

export interface TokenChunk {
  requestId: string;
  textDelta: string;
  /** Thought text (a batch with `thinking`), apart from the answer; absent when there is none in this chunk. */
  thoughtDelta?: string;
  /** Present on the final chunk. */
  usage?: TokenUsage;
  /** Present on the final chunk only. */
  finishReason?: FinishReason;
  /** On the final chunk of an answer that called tools (finish reason `tool_calls`). */
  toolCalls?: ToolCall[];
  /**
   * On a final `length` chunk: true when the context window, not max tokens, ended the answer (prompt + answer
   * filled the context). Left out by runners that cannot tell.
   */
  contextFull?: boolean;
}

export type RuntimeKind = 'llama-cpp' | 'vllm' | 'remote';

export type TransportKind =
  | { kind: 'local-gpu'; device: string }
  | { kind: 'local-cpu'; threads: number }
  | { kind: 'remote-network'; provider: string; endpoint: string };

export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  maxConcurrent?: number;
}

export type WeightSource =
  | { kind: 'huggingface'; repo: string; revision?: string; file?: string }
  | { kind: 'local-path'; path: string }
  | { kind: 'runtime-managed'; id: string };

export type SessionRebuildCause =
  'context-poisoned' | 'remote-auth-failure' | 'remote-config-change' | 'manual';

export interface ExecuteOptions {
  /** Aborting stops generation promptly; the stream then ends with finishReason `abort`. */
  signal?: AbortSignal;
}

/** What a UI header shows about the loaded model. */
export interface RunnerDescription {
  model: string;
  runtime: RuntimeKind;
  /** e.g. "CPU · 1 thread", "CUDA · NVIDIA H100", "remote · https://…". */
  device: string;
  /** `completion` for base variants: no chat template. */
  mode: 'chat' | 'completion';
  contextSize?: number;
  /**
   * The media this runner can give the model (callers check before sending); absent or empty: text only.
   */
  media?: readonly MediaKind[];
}

export interface ModelRunner {
  readonly runtimeKind: RuntimeKind;
  readonly transportKind: TransportKind;
  /** True when the runner's engine lives behind one Python interpreter lock (calls are serialised). */
  readonly gilPinned: boolean;
  /**
   * Streams the answer. Leaving the `for await` loop early, or aborting `options.signal`, stops generation
   * promptly and frees the slot.
   */
  execute(batch: ExecuteBatch, options?: ExecuteOptions): AsyncIterable<TokenChunk>;
  loadWeights(source: WeightSource): Promise<void>;
  rebuildSession(cause: SessionRebuildCause): Promise<void>;
  /** `undefined` for local runners. */
  rateLimits(): RateLimits | undefined;
  /** 0 for local runners. */
  estimateCostUsd(batch: ExecuteBatch): number;
  describe(): RunnerDescription;
  /** Frees native memory / child processes. Idempotent. */
  dispose(): Promise<void>;
}

/**
 * How a deployment (or a chat invocation) says which runner to build. `settings` is the runner's own
 * config, validated by that runner.
 */
export interface RunnerSpec {
  runtime: RuntimeKind;
  model: string;
  weights: WeightSource;
  settings: Record<string, unknown>;
}

/** True when the batch offers tools the model may (or must) call: tools given and tool choice not `none`. */
export function offersTools(batch: ExecuteBatch): boolean {
  return (batch.tools?.length ?? 0) > 0 && batch.toolChoice !== 'none';
}

/** Joins message content to plain text (parts of kind `text` only). */
export function messageText(message: Message): string {
  if (typeof message.content === 'string') return message.content;
  return message.content
    .filter((part): part is { type: 'text'; text: string } => part.type === 'text')
    .map((part) => part.text)
    .join('');
}

/** The media kinds a message list carries, in order of first appearance. */
export function mediaKinds(messages: readonly Message[]): MediaKind[] {
  const kinds = new Set<MediaKind>();
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) if (part.type !== 'text') kinds.add(part.type);
  }
  return [...kinds];
}

/** Where the media a runner cannot take can go instead: the runtimes that give Gemma 4 images and audio. */
export const MEDIA_RUNTIME_HINT =
  'images and audio need the vLLM runtime (--runtime vllm) or a remote endpoint (--runtime remote --endpoint URL)';

/**
 * Refuses media the runner cannot give the model (`accepts`: what describe() says), naming the part, rather than
 * answering a question about a picture the model never saw. Every caller runs it before sending, and runners
 * run it again on what they receive.
 */
export function assertMediaAccepted(
  messages: readonly Message[],
  runnerName: string,
  accepts: readonly MediaKind[] = [],
): void {
  for (const [index, message] of messages.entries()) {
    if (typeof message.content === 'string') continue;
    const other = message.content.find((part) => part.type !== 'text' && !accepts.includes(part.type));
    if (other && other.type !== 'text') throw mediaRefusal(index, other.type, runnerName, accepts);
  }
}

/** The refusal of a message's media part a runner cannot take (see assertMediaAccepted). */
export function mediaRefusal(
  index: number,
  kind: MediaKind,
  runnerName: string,
  accepts: readonly MediaKind[],
): UsageError {
  return unsupportedMedia(`messages[${index}] contains an ${kind} part`, runnerName, accepts);
}

/**
 * The one refusal of media a runner cannot take, whatever carried it (a message part, `chat --image`, `/audio`):
 * `<subject>: the <runner> runner accepts text only`, with the hint naming the runtimes that can.
 */
export function unsupportedMedia(
  subject: string,
  runnerName: string,
  accepts: readonly MediaKind[],
): UsageError {
  const takes = accepts.length === 0 ? 'text only' : `text and ${accepts.join(' and ')} only`;
  return new UsageError(`${subject}: the ${runnerName} runner accepts ${takes}`, {
    code: 'unsupported_content',
    hint: MEDIA_RUNTIME_HINT,
  });
}

/** How runners name themselves in messages. */
export const RUNTIME_NAMES: Record<RuntimeKind, string> = {
  'llama-cpp': 'llama.cpp',
  vllm: 'vLLM',
  remote: 'remote',
};
