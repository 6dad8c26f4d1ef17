import type { Command } from 'commander';
import type { ChatFlags } from '../chat/options.js';
import { addTargetOptions } from '../target/flags.js';

/** Repeatable flags: every occurrence, in order. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerChatCommand(program: Command, setExitCode: (code: number) => void): void {
  const chat = program
    .command('chat')
    .description(
      'chat with the model: a streaming terminal UI, or one answer on stdout with --prompt / a pipe',
    );
  addTargetOptions(chat, 'chat')
    .option('-s, --system <text>', 'system prompt (chat mode only)')
    .option('-p, --prompt <text>', 'answer this one prompt on stdout and exit (stdin is read when piped)')
    .option(
      '--image <path>',
      'attach a PNG, JPEG, WebP or GIF to the prompt (repeatable; vLLM or remote)',
      collect,
      [],
    )
    .option(
      '--audio <path>',
      'attach WAV or MP3 audio, up to 30 s, to the prompt (repeatable; vLLM or remote)',
      collect,
      [],
    )
    .option(
      '--max-tokens <n>',
      'stop after n generated tokens (1–1048576); an answer also stops when prompt + answer fill the context (--ctx)',
    )
    .option('--temperature <t>', 'sampling temperature (0–2; 0 = greedy)')
    .option('--top-p <p>', 'nucleus sampling (greater than 0, at most 1)')
    .option('--top-k <k>', 'top-k sampling (0 = off)')
    .option('--seed <n>', 'sampling seed (0–4294967295): same seed, same text')
    .option('--json', 'with --prompt or a pipe: JSON lines (token events, then one done event)')
    .option(
      '--think',
      'let the model think first: the thought streams apart (stderr; --json: thought events)',
    )
    .option(
      '--json-schema <file>',
      'with --prompt or a pipe: the answer is JSON valid against this JSON Schema',
    )
    .action(async (flags: ChatFlags) => {
      const { runChatCommand } = await import('../chat/run-chat.js');
      await runChatCommand(flags, { setExitCode });
    });
}
