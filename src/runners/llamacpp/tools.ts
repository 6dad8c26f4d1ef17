import type { ChatHistoryItem, ChatModelFunctions } from 'node-llama-cpp';
import { UsageError } from '../../core/errors.js';
import {
  offersTools,
  type ExecuteBatch,
  type ResponseFormat,
  type ToolDefinition,
} from '../../core/model-runner.js';
import { forcedCallOf } from '../../core/tool-calls.js';

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
  if (!offersTools(batch)) return { kind: 'none' };
  const tools = batch.tools ?? [];
  const choice = batch.toolChoice ?? 'auto';
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
  const forced = forcedCallOf(batch)!;
  return { kind: 'forced', ...forced };
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
