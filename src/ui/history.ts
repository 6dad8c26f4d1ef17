import type { RunnerDescription } from '../core/model-runner.js';
import type { TurnStats } from '../chat/stream-turn.js';

/** Everything that scrolls into `<Static>`: written once, never re-rendered. */
export type HistoryItem =
  | { id: string; kind: 'header'; description: RunnerDescription }
  | { id: string; kind: 'user'; text: string }
  /**
   * A piece of an answer. Long answers move into history piece by piece while streaming (at line breaks),
   * so the live region stays a few lines tall; the `final` piece carries the interrupted mark (its stats
   * show in the status line).
   */
  | {
      id: string;
      kind: 'answer';
      text: string;
      final: boolean;
      interrupted?: boolean;
      stats?: TurnStats;
    }
  /** `dim`: a by-the-way line under an answer (e.g. the context is full), in the status line's style. */
  | { id: string; kind: 'notice'; text: string; tone: 'info' | 'warn' | 'error' | 'dim' }
  | { id: string; kind: 'help' };

/** A history item before the controller gives it an id (Omit distributed over the union). */
export type HistoryItemInput = HistoryItem extends infer T
  ? T extends unknown
    ? Omit<T, 'id'>
    : never
  : never;

export const SLASH_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['/help', 'show this help'],
  ['/think', 'let the model think before it answers (toggles; also --think)'],
  ['/image <path>', 'attach a PNG, JPEG, WebP or GIF to the next prompt (vLLM or a remote endpoint)'],
  ['/audio <path>', 'attach WAV or MP3 audio, up to 30 s, to the next prompt (vLLM or a remote endpoint)'],
  ['/reset', 'forget the conversation so far (the model starts fresh)'],
  ['/exit', 'leave (also Ctrl-D, or Ctrl-C on an empty prompt)'],
];

export const KEY_HELP: ReadonlyArray<readonly [string, string]> = [
  ['Enter', 'send the prompt'],
  ['Ctrl-C', 'stop the answer being written; on an empty prompt: leave'],
  ['Ctrl-U', 'clear the prompt'],
  ['Ctrl-W', 'delete the last word'],
];
