import { randomUUID } from 'node:crypto';
import type { ChatHistoryItem, ChatModelFunctions } from 'node-llama-cpp';
import { UsageError } from '../../core/errors.js';
import type { ExecuteBatch, ResponseFormat, ToolCall, ToolDefinition } from '../../core/model-runner.js';

/**
 * Tools on the llama.cpp runner. `auto`: the tools go to node-llama-cpp as functions, which the chat format
 * declares to the model (Gemma 4's `<|tool>declaration:…`) and whose calls it parses back; the model decides.
 * `required` and a named function: the answer is decoded under a grammar of the call itself (the named
 * function's arguments, or `{name, arguments}` over every tool), so even a model that would never choose to call
 * produces a valid call — the "forced" path.
 */

export type ToolPlan =
  | { kind: 'none' }
  | { kind: 'auto'; functions: ChatModelFunctions }
  | { kind: 'forced'; tools: ToolDefinition[]; named: string | undefined; format: ResponseFormat };

export function planTools(batch: ExecuteBatch): ToolPlan {
  const tools = batch.tools ?? [];
  const choice = batch.toolChoice ?? 'auto';
  if (tools.length === 0 || choice === 'none') return { kind: 'none' };
  if (batch.responseFormat) {
    throw new UsageError('response_format cannot be combined with tools on the llama.cpp runner', {
      code: 'unsupported_tools',
    });
  }
  if (choice === 'auto') {
    const functions: ChatModelFunctions = Object.fromEntries(
      tools.map((tool) => [
        tool.name,
        { ...(tool.description ? { description: tool.description } : {}), params: tool.parameters as never },
      ]),
    );
    return { kind: 'auto', functions };
  }
  const named = typeof choice === 'object' ? choice.name : undefined;
  const picked = named === undefined ? tools : tools.filter((tool) => tool.name === named);
  if (picked.length === 0) {
    throw new UsageError(`tool_choice names "${named}", which is not among the tools`, {
      code: 'invalid_tool_choice',
    });
  }
  const schema =
    picked.length === 1 && named !== undefined
      ? picked[0]!.parameters
      : {
          oneOf: picked.map((tool) => ({
            type: 'object',
            properties: { name: { const: tool.name }, arguments: tool.parameters },
            required: ['name', 'arguments'],
          })),
        };
  return { kind: 'forced', tools: picked, named, format: { type: 'json_schema', schema } };
}

/** The tools, as a system turn: what a forced call is chosen from (the grammar holds the shape). */
export function withToolDeclarations(history: ChatHistoryItem[], tools: ToolDefinition[]): ChatHistoryItem[] {
  const declarations = tools
    .map(
      (tool) =>
        `- ${tool.name}${tool.description ? `: ${tool.description}` : ''}\n  arguments: ${JSON.stringify(tool.parameters)}`,
    )
    .join('\n');
  const text = `Call one of these tools. Answer with its arguments as JSON.\n${declarations}`;
  const [first, ...rest] = history;
  if (first?.type === 'system') return [{ type: 'system', text: `${first.text}\n\n${text}` }, ...rest];
  return [{ type: 'system', text }, ...history];
}

/** The grammar-decoded answer of a forced call → the call; undefined when it was cut short (not JSON). */
export function forcedCall(text: string, named: string | undefined): ToolCall | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (named !== undefined) return { id: callId(), name: named, arguments: JSON.stringify(value) };
  const { name, arguments: args } = value as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string') return undefined;
  return { id: callId(), name, arguments: JSON.stringify(args ?? {}) };
}

export function callId(): string {
  return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}
