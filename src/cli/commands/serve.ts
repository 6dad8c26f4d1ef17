import type { Command } from 'commander';
import type { RunnerTarget } from '../../serve/command.js';
import type { ServeFlags } from '../../serve/options.js';

/** Context per sequence when `--parallel` > 1 and neither --ctx nor ATOMR_INFER_GEMMA_MAX_LEN says. */
const SERVE_CONTEXT_PER_SEQUENCE = 4096;

/** Flags `serve` and `bench` share to say which model runs where. */
export interface TargetFlags {
  model?: string;
  runtime?: string;
  endpoint?: string;
  ctx?: string;
  threads?: string;
}

export function registerServeCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('serve')
    .description('serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions)')
    .option('--host <address>', 'address to bind; anything but loopback needs an API key', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port)', '8080')
    .option(
      '-m, --model <id|path.gguf|deployment>',
      'a catalog model id, a .gguf file or a deployment name (default: the gemma-local deployment)',
    )
    .option('--runtime <auto|llama-cpp|vllm|remote>', 'runtime for --model (default: auto → llama-cpp)')
    .option('--endpoint <url>', 'with --runtime remote: the OpenAI-compatible endpoint to forward to')
    .option('--parallel <n>', 'answers decoded at the same time (1–64)', '4')
    .option('--queue <n>', 'requests that may wait beyond --parallel before 429 (0–100000)', '64')
    .option('--api-key <key>', 'require "Authorization: Bearer <key>" (prefer ATOMR_INFER_API_KEY)')
    .option(
      '--ctx <tokens>',
      'context size in tokens per answer (default: ATOMR_INFER_GEMMA_MAX_LEN or 4096)',
    )
    .option('--threads <n>', 'CPU threads for llama.cpp (1 to the CPUs this process may use)')
    .option('--shutdown-timeout <seconds>', 'on SIGINT/SIGTERM, how long running answers may finish', '10')
    .option('--body-limit-mb <n>', 'largest request body in MiB (413 beyond)', '4')
    .option('--log-format <json|pretty>', 'log lines on stderr (default: pretty on a terminal, else json)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', 'info')
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  ATOMR_INFER_API_KEY         the key clients must send as a Bearer token',
        '  ATOMR_INFER_REMOTE_API_KEY  with --runtime remote: the key sent to --endpoint',
        '',
        'Example:',
        '  atomr-infer serve --model google/gemma-4-E2B-it --parallel 4',
        '  curl http://127.0.0.1:8080/v1/chat/completions -H "content-type: application/json" \\',
        '    -d \'{"model":"google/gemma-4-E2B-it","messages":[{"role":"user","content":"Hi"}]}\'',
      ].join('\n'),
    )
    .action(async (flags: ServeFlags & TargetFlags) => {
      const { runServeCommand } = await import('../../serve/command.js');
      await runServeCommand(flags, {
        setExitCode,
        resolveTarget: (parallel) => resolveRunnerTarget(flags, process.env, parallel, 'serve'),
      });
    });
}

/**
 * Which runner `serve`/`bench` drive: whatever `chat` would pick (catalog id, .gguf path, `--runtime remote
 * --endpoint <url> --model <name>`, the gemma-local deployment), plus a deployment name given as `--model`.
 * `parallel` is how many answers the runner must decode at once.
 */
export async function resolveRunnerTarget(
  flags: TargetFlags,
  env: NodeJS.ProcessEnv,
  parallel: number,
  command: 'serve' | 'bench',
): Promise<RunnerTarget> {
  const { parseChatOptions } = await import('../chat/options.js');
  const { resolveChatTarget } = await import('../chat/resolve-target.js');
  const options = parseChatOptions(
    {
      ...(flags.model === undefined ? {} : { model: flags.model }),
      ...(flags.runtime === undefined ? {} : { runtime: flags.runtime }),
      ...(flags.ctx === undefined ? {} : { ctx: flags.ctx }),
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      ...(flags.endpoint === undefined ? {} : { endpoint: flags.endpoint }),
    },
    command,
  );
  const remote = options.runtime?.trim() === 'remote' || options.endpoint !== undefined;
  const deployment =
    options.model === undefined || remote ? undefined : await deploymentNamed(options.model, env);
  const target = deployment
    ? await resolveChatTarget(
        { ...options, model: undefined },
        { ...env, ATOMR_INFER_GEMMA_DEPLOYMENT: deployment },
      )
    : await resolveChatTarget(options, env);
  const spec = { ...target.spec, settings: { ...target.spec.settings } };
  if (spec.runtime === 'llama-cpp') {
    // llama.cpp decodes `parallel` answers together as sequences of one context (continuous batching). Each
    // sequence holds its own context, so without --ctx keep each one modest rather than the chat default.
    spec.settings.sequences = parallel;
    if (spec.settings.contextSize === undefined && parallel > 1)
      spec.settings.contextSize = SERVE_CONTEXT_PER_SEQUENCE;
  }
  const aliases = [deployment, spec.model, target.label].filter(
    (name): name is string => name !== undefined && name !== target.label,
  );
  return { spec, label: target.label, aliases: [...new Set(aliases)] };
}

/** A `--model` value that is neither a catalog id nor a file, but names a registered deployment. */
async function deploymentNamed(value: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { isVariantId } = await import('../../core/catalog.js');
  if (isVariantId(value) || value.includes('/') || value.toLowerCase().endsWith('.gguf')) return undefined;
  const { existsSync } = await import('node:fs');
  if (existsSync(value)) return undefined;
  const { DeploymentRegistry } = await import('../../core/deployments.js');
  const { deploymentsFile } = await import('../../core/paths.js');
  const found = await new DeploymentRegistry(deploymentsFile(env)).get(value);
  return found?.name;
}
