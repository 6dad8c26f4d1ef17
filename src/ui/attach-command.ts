import { homedir } from 'node:os';
import { assertRunnerTakes, readAttachment, type Attachment } from '../chat/attachments.js';
import { isAtomrError } from '../core/errors.js';
import type { MediaKind } from '../core/media.js';
import type { RunnerDescription } from '../core/model-runner.js';
import type { HistoryItemInput } from './history.js';

/**
 * The TUI's `/image <path>` and `/audio <path>`: reads and checks the file (as `chat --image` does), refuses what
 * the runner cannot take, and says so in one history line — the attachment's name, size, and dimensions or
 * duration, or why it was not attached. The attachment goes with the next prompt.
 */
export async function attachFromCommand(
  kind: MediaKind,
  argument: string,
  description: RunnerDescription,
): Promise<{ attachment?: Attachment; notice: HistoryItemInput }> {
  const path = argument
    .trim()
    .replace(/^(["'])(.*)\1$/, '$2')
    .replace(/^~(?=$|\/)/, homedir());
  if (path === '') {
    return { notice: { kind: 'notice', tone: 'warn', text: `Usage: /${kind} <path to the file>` } };
  }
  try {
    assertRunnerTakes(description, kind, `/${kind}`);
    const attachment = await readAttachment(kind, path, `/${kind} ${argument.trim()}`);
    return {
      attachment,
      notice: {
        kind: 'notice',
        tone: 'info',
        text: `Attached ${attachment.summary} (sent with your next prompt).`,
      },
    };
  } catch (error) {
    const text = isAtomrError(error)
      ? `${error.message}${error.hint ? ` (${error.hint})` : ''}`
      : error instanceof Error
        ? error.message
        : String(error);
    return { notice: { kind: 'notice', tone: 'error', text } };
  }
}
