import { randomUUID } from 'node:crypto';
import type { FinishReason, TokenUsage, ToolCall } from '../core/model-runner.js';

/**
 * Response bodies and stream chunks in OpenAI's format, for `/v1/chat/completions` and `/v1/completions`.
 * Stream chunks are built from a precomputed prefix so each token costs one JSON.stringify of its text.
 */

export type Endpoint = 'chat' | 'completion';

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  endpoint: Endpoint;
}

export function newResponseMeta(endpoint: Endpoint, model: string): ResponseMeta {
  const prefix = endpoint === 'chat' ? 'chatcmpl' : 'cmpl';
  return {
    id: `${prefix}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    created: Math.floor(Date.now() / 1000),
    model,
    endpoint,
  };
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export function openAiUsage(usage: TokenUsage | undefined): OpenAiUsage {
  const input = usage?.input ?? 0;
  const output = usage?.output ?? 0;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
    prompt_tokens_details: { cached_tokens: usage?.cached ?? 0 },
    ...(usage?.reasoning === undefined
      ? {}
      : { completion_tokens_details: { reasoning_tokens: usage.reasoning } }),
  };
}

/** OpenAI knows stop/length; an aborted answer is reported as vLLM does (`abort`), an error as `error`. */
export function openAiFinishReason(reason: FinishReason | undefined): string {
  return reason ?? 'stop';
}

export function completeResponse(
  meta: ResponseMeta,
  text: string,
  finish: FinishReason | undefined,
  usage: TokenUsage | undefined,
  thought = '',
  toolCalls: readonly ToolCall[] = [],
): Record<string, unknown> {
  const finishReason = openAiFinishReason(finish);
  const choice =
    meta.endpoint === 'chat'
      ? {
          index: 0,
          // The thought goes apart, as vLLM and llama-server answer it; never into `content`.
          message: {
            role: 'assistant',
            // OpenAI's shape: an answer that only calls tools has `content: null`.
            content: toolCalls.length > 0 && text === '' ? null : text,
            ...(thought ? { reasoning_content: thought } : {}),
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(wireToolCall) } : {}),
          },
          logprobs: null,
          finish_reason: finishReason,
        }
      : { index: 0, text, logprobs: null, finish_reason: finishReason };
  return {
    id: meta.id,
    object: meta.endpoint === 'chat' ? 'chat.completion' : 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: [choice],
    usage: openAiUsage(usage),
  };
}

function wireToolCall(call: ToolCall): Record<string, unknown> {
  return { id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } };
}

/** Writes `data: …` lines for one stream. */
export class StreamEncoder {
  private readonly head: string;

  constructor(private readonly meta: ResponseMeta) {
    const object = meta.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    this.head = `data: {"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},"model":${JSON.stringify(meta.model)},"choices":`;
  }

  /** Chat streams open with the assistant role, as OpenAI's do. Empty for completions. */
  opening(): string {
    if (this.meta.endpoint !== 'chat') return '';
    return `${this.head}[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  text(delta: string): string {
    const body =
      this.meta.endpoint === 'chat'
        ? `{"index":0,"delta":{"content":${JSON.stringify(delta)}},"logprobs":null,"finish_reason":null}`
        : `{"index":0,"text":${JSON.stringify(delta)},"logprobs":null,"finish_reason":null}`;
    return `${this.head}[${body}]}\n\n`;
  }

  /** A piece of the thought (chat only): `delta.reasoning_content`, as vLLM and llama-server stream it. */
  thought(delta: string): string {
    return `${this.head}[{"index":0,"delta":{"reasoning_content":${JSON.stringify(delta)}},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  /**
   * One tool call, as OpenAI streams it: a first delta with the call's `index`, `id`, type and name (arguments
   * empty), then the arguments in pieces under the same `index`.
   */
  toolCall(index: number, call: ToolCall, pieceSize = 64): string {
    const delta = (toolCall: Record<string, unknown>) =>
      `${this.head}[{"index":0,"delta":{"tool_calls":[${JSON.stringify({ index, ...toolCall })}]},"logprobs":null,"finish_reason":null}]}\n\n`;
    let frames = delta({ id: call.id, type: 'function', function: { name: call.name, arguments: '' } });
    for (let at = 0; at < call.arguments.length; at += pieceSize) {
      frames += delta({ function: { arguments: call.arguments.slice(at, at + pieceSize) } });
    }
    return frames;
  }

  finish(reason: FinishReason | undefined): string {
    const finishReason = JSON.stringify(openAiFinishReason(reason));
    const body =
      this.meta.endpoint === 'chat'
        ? `{"index":0,"delta":{},"logprobs":null,"finish_reason":${finishReason}}`
        : `{"index":0,"text":"","logprobs":null,"finish_reason":${finishReason}}`;
    return `${this.head}[${body}]}\n\n`;
  }

  /** `stream_options.include_usage`: a last chunk with no choices and the usage. */
  usage(usage: TokenUsage | undefined): string {
    return `${this.head}[],"usage":${JSON.stringify(openAiUsage(usage))}}\n\n`;
  }

  /** A failure after the stream started (status already 200): an error event, as vLLM sends. */
  error(body: OpenAiErrorBody): string {
    return `data: ${JSON.stringify(body)}\n\n`;
  }

  done(): string {
    return 'data: [DONE]\n\n';
  }
}

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function errorBody(
  message: string,
  type:
    | 'invalid_request_error'
    | 'authentication_error'
    | 'not_found_error'
    | 'rate_limit_error'
    | 'server_error',
  code: string | null = null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}
