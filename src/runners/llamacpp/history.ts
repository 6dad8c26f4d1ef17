import type { ChatHistoryItem } from 'node-llama-cpp';
import { assertTextOnly, messageText, type Message } from '../../core/model-runner.js';

/**
 * Messages → node-llama-cpp chat history. Gemma has no tool role, so a tool result becomes a user turn that
 * says so. When the last message is the assistant's, generation continues that answer (a prefill); otherwise a
 * fresh model turn is opened.
 */
export function toChatHistory(messages: readonly Message[]): ChatHistoryItem[] {
  assertTextOnly(messages, 'llama.cpp');
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    const text = messageText(message);
    switch (message.role) {
      case 'system':
        return { type: 'system', text };
      case 'user':
        return { type: 'user', text };
      case 'assistant':
        return { type: 'model', response: [text] };
      case 'tool':
        return {
          type: 'user',
          text: `Tool result${message.toolCallId ? ` (${message.toolCallId})` : ''}:\n${text}`,
        };
    }
  });
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

/**
 * The prompt of a plain completion (base models, `/v1/completions`): the messages' text verbatim, joined
 * with newlines — no chat template, no role names.
 */
export function toCompletionPrompt(messages: readonly Message[]): string {
  assertTextOnly(messages, 'llama.cpp');
  return messages.map(messageText).join('\n');
}
