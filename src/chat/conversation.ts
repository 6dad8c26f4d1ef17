import { randomUUID } from 'node:crypto';
import type {
  ContentPart,
  ExecuteBatch,
  Message,
  ResponseFormat,
  SamplingParams,
} from '../core/model-runner.js';

/** The user's turn: the prompt, with its attached images and audio after it. */
function userTurn(prompt: string, media: readonly ContentPart[]): Message {
  return media.length === 0
    ? { role: 'user', content: prompt }
    : { role: 'user', content: [{ type: 'text', text: prompt }, ...media] };
}

/**
 * The messages of one chat. In `chat` mode every turn sends the whole history (system prompt, earlier turns,
 * the new prompt) so the runner stays stateless; in `completion` mode (base models, no chat template) each
 * prompt is continued on its own as plain text.
 */
export class Conversation {
  private turns: Message[] = [];

  constructor(
    readonly model: string,
    readonly mode: 'chat' | 'completion',
    readonly sampling: SamplingParams,
    readonly system: string | undefined,
    /** Every answer constrained to this format (`chat --json-schema`); absent: free text. */
    readonly responseFormat?: ResponseFormat,
    /** The model thinks before it answers (`--think`; the TUI's /think toggles it between turns). */
    public thinking = false,
  ) {}

  /** The batch for `prompt` (with `media` attached), given everything said so far. */
  batchFor(prompt: string, media: readonly ContentPart[] = []): ExecuteBatch {
    const messages: Message[] =
      this.mode === 'completion'
        ? [userTurn(prompt, media)]
        : [
            ...(this.system ? [{ role: 'system' as const, content: this.system }] : []),
            ...this.turns,
            userTurn(prompt, media),
          ];
    return {
      requestId: `chat-${randomUUID()}`,
      model: this.model,
      messages,
      sampling: this.sampling,
      stream: true,
      mode: this.mode,
      ...(this.responseFormat ? { responseFormat: this.responseFormat } : {}),
      ...(this.thinking && this.mode === 'chat' ? { thinking: true } : {}),
    };
  }

  /** Remembers a finished (or interrupted: its partial text) answer so the next turn sees it. */
  commit(prompt: string, answer: string, media: readonly ContentPart[] = []): void {
    if (this.mode === 'completion') return;
    // The media stay in the history: a follow-up question is about the same picture.
    this.turns.push(userTurn(prompt, media), { role: 'assistant', content: answer });
  }

  reset(): void {
    this.turns = [];
  }

  get turnCount(): number {
    return this.turns.length / 2;
  }
}
