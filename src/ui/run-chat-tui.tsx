import { render } from 'ink';
import type { Conversation } from '../chat/conversation.js';
import type { ModelRunner, RunnerDescription } from '../core/model-runner.js';
import { StopSignals } from '../core/stop-signals.js';
import { ChatApp, LEAVE_TIMEOUT_MS } from './ChatApp.js';
import { ChatController } from './chat-controller.js';
import { themeFor } from './theme.js';

export interface ChatTuiOptions {
  runner: ModelRunner;
  conversation: Conversation;
  description: RunnerDescription;
  /** The model name the header shows. */
  label: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

const SHOW_CURSOR = '\x1b[?25h';

/**
 * Mounts the chat UI and resolves with the exit code once the user leaves or a signal arrives. On every path
 * (exit, error, SIGTERM, SIGHUP) the answer is aborted, Ink unmounts and the terminal is restored (raw mode
 * off, cursor visible); disposing the runner is the caller's job, after this resolves.
 */
export async function runChatTui(options: ChatTuiOptions): Promise<number> {
  const { stdin, stdout } = options;
  const controller = new ChatController(
    options.runner,
    options.conversation,
    { ...options.description, model: options.label },
    // The live tail never exceeds one terminal row: longer text settles into <Static> a row at a time (cut at
    // a space, like word wrap), so each frame lays out a few dozen characters however long the answer is.
    { maxLiveChars: () => Math.max(20, (stdout.columns || 80) - 1) },
  );

  let exitCode = 0;
  const instance = render(<ChatApp controller={controller} theme={themeFor(options.env)} />, {
    stdin,
    stdout,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 30,
  });

  const restoreTerminal = (): void => {
    if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
    if (stdout.isTTY) stdout.write(SHOW_CURSOR);
  };
  // The one stop policy (src/core/stop-signals.ts). Raw mode turns Ctrl-C into a key press; a SIGINT from
  // outside (kill -INT) behaves like that key: it stops the answer, and counts as a stop only when idle.
  const stop = new StopSignals({ consumeInterrupt: () => controller.interrupt() });
  stop.onStop(() => {
    exitCode = stop.exitCode ?? 0;
    void controller.close(LEAVE_TIMEOUT_MS).then(() => instance.unmount());
  });
  process.on('exit', restoreTerminal);

  try {
    await instance.waitUntilExit();
  } finally {
    stop.dispose();
    await controller.close();
    instance.cleanup();
    restoreTerminal();
    process.off('exit', restoreTerminal);
    // Ink leaves stdin flowing; pause it so the process can end once the runner is disposed.
    stdin.pause();
  }
  return exitCode;
}
