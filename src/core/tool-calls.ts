import { randomUUID } from 'node:crypto';
import { UsageError } from './errors.js';
import type { ExecuteBatch, ResponseFormat, ToolCall, ToolDefinition } from './model-runner.js';

/**
 * A forced tool call (`tool_choice` "required" or a named function), the same on every runner that can constrain
 * decoding: the answer is decoded under the JSON schema of the call itself — the named function's arguments, or
 * `{name, arguments}` over every tool — and the JSON it produces becomes the call. So even a model that would
 * never choose to call produces a valid one.
 */
export interface ForcedCall {
  tools: ToolDefinition[];
  /** The function named by tool_choice; undefined for "required" (the answer names it). */
  named: string | undefined;
  format: ResponseFormat;
}

/** The forced call a batch asks for; undefined for `auto`, `none` or no tools. */
export function forcedCallOf(batch: ExecuteBatch): ForcedCall | undefined {
  const tools = batch.tools ?? [];
  const choice = batch.toolChoice ?? 'auto';
  if (tools.length === 0 || choice === 'auto' || choice === 'none') return undefined;
  const named = typeof choice === 'object' ? choice.name : undefined;
  const picked = named === undefined ? tools : tools.filter((tool) => tool.name === named);
  if (picked.length === 0) {
    throw new UsageError(`tool_choice names "${named}", which is not among the tools`, {
      code: 'invalid_tool_choice',
    });
  }
  const schema =
    named !== undefined
      ? picked[0]!.parameters
      : {
          oneOf: picked.map((tool) => ({
            type: 'object',
            properties: { name: { const: tool.name }, arguments: tool.parameters },
            required: ['name', 'arguments'],
          })),
        };
  return { tools: picked, named, format: { type: 'json_schema', schema } };
}

/** The decoded answer of a forced call → the call; undefined when it was cut short (not JSON). */
export function forcedCall(text: string, named: string | undefined): ToolCall | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (named !== undefined) return { id: toolCallId(), name: named, arguments: JSON.stringify(value) };
  const { name, arguments: args } = (value ?? {}) as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string') return undefined;
  return { id: toolCallId(), name, arguments: JSON.stringify(args ?? {}) };
}

/** A call's arguments (a JSON string on the wire) as the value a chat template renders; the text if not JSON. */
export function parseToolArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** An id for a call, in OpenAI's style. */
export function toolCallId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
