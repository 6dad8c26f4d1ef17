import type { ModelRunner } from '../../core/model-runner.js';
import type { ResolvedTarget } from '../../core/target.js';
import { Conversation } from '../../chat/conversation.js';
import { UsageError } from '../../core/errors.js';
import { ExitCode } from '../../core/exit-codes.js';
import { StopSignals } from '../../core/stop-signals.js';
import { parseChatOptions, type ChatFlags, type ChatOptions } from './options.js';
import { runPlainChat } from './plain-chat.js';
import { readPrompt } from './read-prompt.js';
import { assertRunnerTakes, readAttachment } from '../../chat/attachments.js';
import { resolveTarget } from '../target/resolve.js';

export interface ChatContext {
  setExitCode: (code: number) => void;
  env?: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/**
 * `atomr-infer chat`: validate flags, resolve the target, load the runner, then either the Ink TUI (both ends
 * a terminal, no `--prompt`/`--json`) or one streamed answer on stdout. The runner is always disposed.
 * Signals follow the one stop policy (src/core/stop-signals.ts) from the first line to the last: a signal while
 * the model loads stops the command once the load returns, one during the answer stops the answer.
 */
export async function runChatCommand(flags: ChatFlags, context: ChatContext): Promise<void> {
  const stop = new StopSignals();
  try {
    await chatSession(parseChatOptions(flags), context, stop);
  } finally {
    stop.dispose();
  }
}

async function chatSession(options: ChatOptions, context: ChatContext, stop: StopSignals): Promise<void> {
  const env = context.env ?? process.env;
  const stdin = context.stdin ?? process.stdin;
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  const interactive =
    options.prompt === undefined && !options.json && stdin.isTTY === true && stdout.isTTY === true;
  if (interactive && options.responseFormat) {
    throw new UsageError('--json-schema is for one answer: give the prompt with --prompt or on stdin', {
      hint: 'e.g. atomr-infer chat --json-schema answer.json --prompt "…"',
    });
  }
  if (interactive && options.attachments.length > 0) {
    throw new UsageError(
      '--image and --audio are for one answer: give the prompt with --prompt or on stdin',
      {
        hint: 'in the interactive chat, attach files with /image <path> and /audio <path>',
      },
    );
  }
  // Read (and validate) the prompt before paying for a model load; a signal while stdin is still open stops here.
  const prompt = interactive ? undefined : await untilStopped(readPrompt(options.prompt, stdin), stop);
  // Attachments too: a missing or broken file costs milliseconds, not a model load.
  const attachments = await Promise.all(
    options.attachments.map(({ kind, path }) => readAttachment(kind, path, `--${kind} ${path}`)),
  );
  // A catalog model not cached yet is downloaded here, with pull's progress on stderr; a signal stops it.
  const target = await resolveTarget(options, { env, parallel: 1, signal: stop.signal, command: 'chat' });

  if (interactive && target.spec.runtime === 'vllm') {
    // vLLM logs to stderr, which shares the terminal with the full-screen UI: keep them out of it.
    target.spec.settings = { ...target.spec.settings, engineLogs: 'silent' };
  }
  const runner = await loadRunner(target, stderr);
  try {
    if (stop.signal.aborted) throw stop.interrupted('interrupted while the model was loading');
    const description = runner.describe();
    for (const { kind, path } of options.attachments)
      assertRunnerTakes(description, kind, `--${kind} ${path}`);
    const mode = target.mode ?? description.mode;
    if (mode === 'completion' && !interactive) {
      stderr.write(`atomr-infer: ${target.label} is a base model: completion mode (no chat template)\n`);
      if (options.system) stderr.write('atomr-infer: --system is ignored in completion mode\n');
    }
    const conversation = new Conversation(
      target.spec.model,
      mode,
      options.sampling,
      options.system,
      options.responseFormat,
      options.think,
    );

    if (prompt === undefined) {
      // The TUI gives SIGINT the Ctrl-C key's meaning, so it holds a StopSignals of its own from here on.
      stop.dispose();
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

    const result = await runPlainChat(
      runner,
      { ...description, model: target.label },
      conversation,
      prompt,
      { json: options.json, signal: stop.signal, media: attachments.map((attachment) => attachment.part) },
      { stdout, stderr },
    );
    if (result.finishReason === 'abort') context.setExitCode(stop.exitCode ?? ExitCode.Interrupted);
  } finally {
    await runner.dispose();
  }
}

/** `work`, unless a stop signal comes first: then the command's InterruptedError (the work is left behind). */
async function untilStopped<T>(work: Promise<T>, stop: StopSignals): Promise<T> {
  const stopped = stop.first.then((): never => {
    throw stop.interrupted('interrupted');
  });
  stopped.catch(() => undefined);
  return Promise.race([work, stopped]);
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
