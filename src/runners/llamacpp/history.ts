import type { ChatHistoryItem, ChatModelResponse } from 'node-llama-cpp';
import { assertMediaAccepted, messageText, type Message } from '../../core/model-runner.js';
import { parseToolArguments } from '../../core/tool-calls.js';

/**
 * Messages → node-llama-cpp chat history. An assistant turn's tool calls become the chat format's function-call
 * segments, each with the result of the `tool` message that answers it (Gemma 4 renders them as
 * `<|tool_call>…` and `<|tool_response>…`). A tool result that answers no known call becomes a user turn that
 * says so. When the last message is the assistant's, generation continues that answer (a prefill); otherwise a
 * fresh model turn is opened.
 */
export function toChatHistory(messages: readonly Message[]): ChatHistoryItem[] {
  assertMediaAccepted(messages, 'llama.cpp');
  const results = new Map<string, string>();
  for (const message of messages) {
    if (message.role === 'tool' && message.toolCallId) results.set(message.toolCallId, messageText(message));
  }
  const answered = new Set<string>();
  const history: ChatHistoryItem[] = [];
  for (const message of messages) {
    const text = messageText(message);
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text });
        break;
      case 'user':
        history.push({ type: 'user', text });
        break;
      case 'assistant': {
        const response: ChatModelResponse['response'] = text ? [text] : [];
        for (const call of message.toolCalls ?? []) {
          answered.add(call.id);
          response.push({
            type: 'functionCall',
            name: call.name,
            params: parseToolArguments(call.arguments),
            result: results.get(call.id) ?? '',
          });
        }
        history.push({ type: 'model', response });
        break;
      }
      case 'tool':
        if (message.toolCallId && answered.has(message.toolCallId)) break;
        history.push({
          type: 'user',
          text: `Tool result${message.toolCallId ? ` (${message.toolCallId})` : ''}:\n${text}`,
        });
        break;
    }
  }
  const last = history.at(-1);
  // A model turn that ended in tool calls is complete: the answer comes in a new model turn.
  const endsInCalls = last?.type === 'model' && last.response.some((item) => typeof item !== 'string');
  if (last?.type !== 'model' || endsInCalls) history.push({ type: 'model', response: [] });
  return history;
}

/**
 * The prompt of a plain completion (base models, `/v1/completions`): the messages' text verbatim, joined
 * with newlines — no chat template, no role names.
 */
export function toCompletionPrompt(messages: readonly Message[]): string {
  assertMediaAccepted(messages, 'llama.cpp');
  return messages.map(messageText).join('\n');
}
