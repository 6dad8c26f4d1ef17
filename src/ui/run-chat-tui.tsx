import { render } from 'ink';
import type { Conversation } from '../chat/conversation.js';
import type { ModelRunner, RunnerDescription } from '../core/model-runner.js';
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
  const leaveWith = (code: number) => () => {
    exitCode = code;
    void controller.close(LEAVE_TIMEOUT_MS).then(() => instance.unmount());
  };
  const onSigterm = leaveWith(143);
  const onSighup = leaveWith(129);
  // Raw mode turns Ctrl-C into a key press; a SIGINT from outside (kill -INT) behaves like that key.
  const onSigint = (): void => {
    if (!controller.interrupt()) leaveWith(130)();
  };
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  process.on('SIGINT', onSigint);
  process.on('exit', restoreTerminal);

  try {
    await instance.waitUntilExit();
  } finally {
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
    process.off('SIGINT', onSigint);
    await controller.close();
    instance.cleanup();
    restoreTerminal();
    process.off('exit', restoreTerminal);
    // Ink leaves stdin flowing; pause it so the process can end once the runner is disposed.
    stdin.pause();
  }
  return exitCode;
}
