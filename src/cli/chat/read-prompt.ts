import { UsageError } from '../../core/errors.js';

/** The whole of a piped stdin as text (the prompt for `chat` without `--prompt`). */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The prompt for a non-interactive run: `--prompt`, else piped stdin. A terminal stdin with a non-terminal
 * stdout (or `--json`) has nowhere to take the prompt from, so it is a usage error rather than a silent wait.
 */
export async function readPrompt(
  flagPrompt: string | undefined,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean },
): Promise<string> {
  if (flagPrompt !== undefined) return flagPrompt;
  if (stdin.isTTY) {
    throw new UsageError('no prompt: stdout is not a terminal (or --json is set) and stdin is a terminal', {
      hint: 'pass --prompt "…" or pipe the prompt on stdin: echo "hi" | atomr-infer chat',
    });
  }
  const text = (await readAll(stdin)).replace(/\s+$/, '');
  if (text.trim() === '') {
    throw new UsageError('no prompt: stdin was empty', {
      hint: 'pass --prompt "…" or pipe the prompt on stdin: echo "hi" | atomr-infer chat',
    });
  }
  return text;
}
