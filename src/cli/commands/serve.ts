import type { Command } from 'commander';
import type { ServeFlags } from '../../serve/options.js';
import { StopSignals } from '../../core/stop-signals.js';
import { addTargetOptions, type TargetFlags } from '../target/flags.js';

export function registerServeCommand(program: Command, setExitCode: (code: number) => void): void {
  const serve = program
    .command('serve')
    .description('serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions)')
    .option('--host <address>', 'address to bind; anything but loopback needs an API key', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port)', '8080');
  addTargetOptions(serve, 'serve')
    .option('--parallel <n>', 'answers decoded at the same time (1–64)', '4')
    .option('--queue <n>', 'requests that may wait beyond --parallel before 429 (0–100000)', '64')
    .option('--api-key <key>', 'require "Authorization: Bearer <key>" (prefer ATOMR_INFER_API_KEY)')
    .option('--shutdown-timeout <seconds>', 'on SIGINT/SIGTERM, how long running answers may finish', '10')
    .option('--body-limit-mb <n>', 'largest request body in MiB (413 beyond)', '4')
    .option(
      '--allow-remote-media [scope]',
      'fetch image_url http(s) URLs (public addresses only; "any" also private ones); default: data URLs only',
    )
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
      // The one stop policy (src/core/stop-signals.ts), held before the server code loads (most of a second): a
      // signal in any phase (resolving, binding, loading, serving) is serve's clean stop, exit 0; a second one
      // leaves at once.
      const stop = new StopSignals();
      try {
        const { runServeCommand } = await import('../../serve/command.js');
        const { targetResolver } = await import('../target/resolve.js');
        const resolveTarget = targetResolver(flags, 'serve');
        await runServeCommand(flags, { setExitCode, resolveTarget, stop });
      } finally {
        stop.dispose();
      }
    });
}
