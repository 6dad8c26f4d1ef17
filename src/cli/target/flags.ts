import type { Command } from 'commander';
import { defaultThreadCount, usableCpuCount } from '../../core/cpu-threads.js';
import { UsageError } from '../../core/errors.js';
import { parseNumberFlag, type NumberRule } from '../../core/number-flag.js';

/**
 * The flags that say which model runs where — `--model`, `--runtime`, `--endpoint`, `--ctx`, `--threads`, and
 * `--yes` (consent to set up the default deployment) — declared once for every command that runs a model (chat, serve, bench), so their names, help and validation
 * cannot drift apart (node-llama-cpp builds its commands' shared options the same way).
 */

/** The target flags exactly as commander hands them over. */
export interface TargetFlags {
  model?: string;
  runtime?: string;
  endpoint?: string;
  ctx?: string;
  threads?: string;
  yes?: boolean;
}

/** Validated target flags. `runtime` and `ctx` are validated by resolveSettings (flag > env > default). */
export interface TargetOptions {
  model: string | undefined;
  runtime: string | undefined;
  /** With `--runtime remote`: the OpenAI-compatible endpoint (validated by remoteRunnerSpec). */
  endpoint: string | undefined;
  ctx: string | undefined;
  threads: number | undefined;
  /**
   * `--yes`: without `--model`, set up the missing default deployment (a download) without asking. A model
   * named with `--model` needs no consent: naming it is the consent, as with `ollama run`.
   */
  yes: boolean;
}

export type TargetCommand = 'chat' | 'serve' | 'bench';

/** The llama-cpp runner's own ceiling for its `threads` setting. */
const MAX_THREADS = 256;

const ENDPOINT_HELP: Record<TargetCommand, string> = {
  chat: 'with --runtime remote: an OpenAI-compatible endpoint (key: ATOMR_INFER_REMOTE_API_KEY)',
  serve: 'with --runtime remote: the OpenAI-compatible endpoint to forward to',
  bench: 'with --runtime remote: benchmark this OpenAI-compatible endpoint',
};

const CTX_HELP: Record<TargetCommand, string> = {
  chat: 'context size in tokens (default: ATOMR_INFER_GEMMA_MAX_LEN or the runner’s)',
  serve: 'context size in tokens per answer (default: ATOMR_INFER_GEMMA_MAX_LEN or 4096)',
  bench: 'context size in tokens per answer (default: ATOMR_INFER_GEMMA_MAX_LEN or 4096)',
};

/** Declares the six target flags on `command`, in the same order and words everywhere. */
export function addTargetOptions(command: Command, name: TargetCommand): Command {
  return command
    .option(
      '-m, --model <id|path.gguf|deployment>',
      'a catalog model id (downloaded if missing), a .gguf file or a deployment name (default: the gemma-local deployment)',
    )
    .option('--runtime <auto|llama-cpp|vllm|remote>', 'runtime for --model (default: auto → llama-cpp)')
    .option('--endpoint <url>', ENDPOINT_HELP[name])
    .option('--ctx <tokens>', CTX_HELP[name])
    .option(
      '--threads <n>',
      'CPU threads for llama.cpp (1 to the CPUs this process may use; default: one fewer than the cores)',
    )
    .option(
      '-y, --yes',
      'without --model: download and set up gemma-local without asking if it is missing (needed off a terminal)',
    );
}

/**
 * `--threads`: 1 to the CPUs this process may use. More is refused rather than clamped: the user typed the
 * number, llama.cpp users expect it honoured, and honouring it oversubscribes the CPUs so badly that decoding
 * never finishes (see usableCpuCount). The refusal costs milliseconds and names the range.
 */
function threadsRule(usable = usableCpuCount()): NumberRule {
  const max = Math.min(MAX_THREADS, usable);
  const cpus = `${usable} CPU${usable === 1 ? '' : 's'}`;
  return {
    flag: '--threads',
    integer: true,
    min: 1,
    max,
    accepted: `an integer from 1 to ${max} (this process may use ${cpus})`,
    hint: `more threads than CPUs stall llama.cpp; omit --threads for the default (${defaultThreadCount()} here)`,
  };
}

/** Validates the target flags before anything heavy loads, so a typo costs milliseconds, not a model load. */
export function parseTargetFlags(flags: TargetFlags, command: TargetCommand): TargetOptions {
  if (flags.model !== undefined && flags.model.trim() === '') {
    throw new UsageError(
      '--model "" is not valid: expected a catalog model id, a path to a .gguf file or a deployment name',
    );
  }
  return {
    model: flags.model?.trim(),
    runtime: flags.runtime,
    endpoint: flags.endpoint?.trim(),
    ctx: flags.ctx,
    threads: parseNumberFlag(threadsRule(), flags.threads, command),
    yes: flags.yes === true,
  };
}
