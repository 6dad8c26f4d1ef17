import { randomUUID } from 'node:crypto';
import type { ExecuteBatch, Message, ResponseFormat, SamplingParams } from '../core/model-runner.js';

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

  /** The batch for `prompt`, given everything said so far. */
  batchFor(prompt: string): ExecuteBatch {
    const messages: Message[] =
      this.mode === 'completion'
        ? [{ role: 'user', content: prompt }]
        : [
            ...(this.system ? [{ role: 'system' as const, content: this.system }] : []),
            ...this.turns,
            { role: 'user', content: prompt },
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
  commit(prompt: string, answer: string): void {
    if (this.mode === 'completion') return;
    this.turns.push({ role: 'user', content: prompt }, { role: 'assistant', content: answer });
  }

  reset(): void {
    this.turns = [];
  }

  get turnCount(): number {
    return this.turns.length / 2;
  }
}
