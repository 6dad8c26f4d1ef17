import type { Attachment } from '../chat/attachments.js';
import type { Conversation } from '../chat/conversation.js';
import type { RunnerDescription } from '../core/model-runner.js';
import { attachFromCommand } from './attach-command.js';
import type { HistoryItemInput } from './history.js';

/** What a slash command did: handled here ('command'), or the user asked to leave ('exit'). */
export type SlashCommandOutcome = 'command' | 'exit';

/** The parts of the chat session a slash command may read or change (the ChatController supplies them). */
export interface SlashCommandContext {
  readonly conversation: Conversation;
  readonly description: RunnerDescription;
  /** An answer is being written (then /reset waits for Ctrl-C). */
  readonly busy: boolean;
  /** Adds one line to the history the user sees. */
  append(item: HistoryItemInput): void;
  /**
   * Keeps a file attached with /image or /audio for the next prompt, once `read` settles. Reads run at once,
   * but their results land in the order the commands were typed (a small image read after a large clip is still
   * listed, and sent, after it), and the next prompt waits for them.
   */
  attachInOrder(read: Promise<{ attachment?: Attachment; notice: HistoryItemInput }>): void;
  /** Drops the attachments not yet sent (/reset). */
  clearAttachments(): void;
}

/**
 * The TUI's slash commands (/help, /think, /image, /audio, /reset, /exit): kept apart from the ChatController, which
 * streams answers, so adding a command touches neither the frame batching nor the answer's bookkeeping. Every
 * command answers with one history line, an unknown one included (never a silent no-op).
 */
export function runSlashCommand(text: string, session: SlashCommandContext): SlashCommandOutcome {
  const name = text.split(/\s+/)[0]?.toLowerCase();
  switch (name) {
    case '/exit':
    case '/quit':
      return 'exit';
    case '/help':
      session.append({ kind: 'help' });
      return 'command';
    case '/think':
      if (session.conversation.mode === 'completion') {
        session.append({
          kind: 'notice',
          tone: 'warn',
          text: 'A base model in completion mode cannot think.',
        });
        return 'command';
      }
      session.conversation.thinking = !session.conversation.thinking;
      session.append({
        kind: 'notice',
        tone: 'info',
        text: session.conversation.thinking
          ? 'Thinking on: the model thinks before each answer (shown dim, then folded to one line).'
          : 'Thinking off.',
      });
      return 'command';
    case '/image':
    case '/audio': {
      const kind = name === '/image' ? 'image' : 'audio';
      session.attachInOrder(attachFromCommand(kind, text.slice(name.length), session.description));
      return 'command';
    }
    case '/reset':
      if (session.busy) {
        session.append({
          kind: 'notice',
          tone: 'warn',
          text: 'An answer is being written: press Ctrl-C first.',
        });
        return 'command';
      }
      session.conversation.reset();
      session.clearAttachments();
      session.append({ kind: 'notice', tone: 'info', text: 'Conversation reset: the model starts fresh.' });
      return 'command';
    default:
      session.append({
        kind: 'notice',
        tone: 'warn',
        text: `Unknown command ${name ?? text}: /help lists them.`,
      });
      return 'command';
  }
}
