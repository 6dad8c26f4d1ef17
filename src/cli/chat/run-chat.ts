import type { ModelRunner } from '../../core/model-runner.js';
import type { ResolvedTarget } from '../../core/target.js';
import { Conversation } from '../../chat/conversation.js';
import { parseChatOptions, type ChatFlags } from './options.js';
import { runPlainChat } from './plain-chat.js';
import { readPrompt } from './read-prompt.js';
import { resolveTarget } from '../target/resolve.js';

export interface ChatContext {
  setExitCode: (code: number) => void;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** 128 + signal number, as shells report a process ended by SIGINT / SIGTERM. */
const EXIT_INTERRUPTED = 130;
const EXIT_TERMINATED = 143;

/**
 * `atomr-infer chat`: validate flags, resolve the target, load the runner, then either the Ink TUI (both ends
 * a terminal, no `--prompt`/`--json`) or one streamed answer on stdout. The runner is always disposed.
 */
export async function runChatCommand(flags: ChatFlags, context: ChatContext): Promise<void> {
  const env = context.env ?? process.env;
  const stdin = context.stdin ?? process.stdin;
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;

  const options = parseChatOptions(flags);
  const interactive =
    options.prompt === undefined && !options.json && stdin.isTTY === true && stdout.isTTY === true;
  // Read (and validate) the prompt before paying for a model load.
  const prompt = interactive ? undefined : await readPrompt(options.prompt, stdin);
  const target = await resolveTarget(options, { env, parallel: 1, yes: options.yes === true });

  if (interactive && target.spec.runtime === 'vllm') {
    // vLLM logs to stderr, which shares the terminal with the full-screen UI: keep them out of it.
    target.spec.settings = { ...target.spec.settings, engineLogs: 'silent' };
  }
  const runner = await loadRunner(target, stderr);
  try {
    const description = runner.describe();
    const mode = target.mode ?? description.mode;
    if (mode === 'completion' && !interactive) {
      stderr.write(`atomr-infer: ${target.label} is a base model: completion mode (no chat template)\n`);
      if (options.system) stderr.write('atomr-infer: --system is ignored in completion mode\n');
    }
    const conversation = new Conversation(target.spec.model, mode, options.sampling, options.system);

    if (prompt === undefined) {
      // React's development build checks every render and may print warnings across the UI; users get the
      // production build unless they chose otherwise. Set before React's first import.
      process.env.NODE_ENV ??= 'production';
      const { runChatTui } = await import('../../ui/run-chat-tui.js');
      const code = await runChatTui({
        runner,
        conversation,
        description,
        label: target.label,
        stdin,
        stdout,
        env,
      });
      if (code !== 0) context.setExitCode(code);
      return;
    }

    const controller = new AbortController();
    let signalCode = EXIT_INTERRUPTED;
    const onSignal = (code: number) => (): void => {
      // A second signal while the first abort is still draining leaves at once.
      if (controller.signal.aborted) process.exit(code);
      signalCode = code;
      controller.abort();
    };
    const onSigint = onSignal(EXIT_INTERRUPTED);
    const onSigterm = onSignal(EXIT_TERMINATED);
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    try {
      const result = await runPlainChat(
        runner,
        { ...description, model: target.label },
        conversation,
        prompt,
        { json: options.json, signal: controller.signal },
        { stdout, stderr },
      );
      if (result.finishReason === 'abort') context.setExitCode(signalCode);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    }
  } finally {
    await runner.dispose();
  }
}

/** Builds the runner (which loads the weights); a one-line progress note on a terminal stderr. */
async function loadRunner(target: ResolvedTarget, stderr: NodeJS.WriteStream): Promise<ModelRunner> {
  const { createRunner } = await import('../../runners/index.js');
  const note = stderr.isTTY === true;
  if (note) stderr.write(`loading ${target.label} (${target.spec.runtime})…`);
  try {
    return await createRunner(target.spec);
  } finally {
    if (note) stderr.write('\r\x1b[2K');
  }
}
