import type { Command } from 'commander';
import { DEFAULT_MODEL, VARIANT_IDS } from '../../core/catalog.js';
import { ENV } from '../../core/env-names.js';
import { ExitCode } from '../../core/exit-codes.js';

interface ProbeFlags {
  model?: string;
  runtime?: string;
  media?: string;
  json?: boolean;
}

export function registerProbeCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('probe')
    .description('check this machine and say which runner would serve the model')
    .option(
      '--model <id>',
      `Gemma variant: ${VARIANT_IDS.join(', ')} (default ${DEFAULT_MODEL}; env ${ENV.model})`,
    )
    .option('--runtime <runtime>', `auto, vllm or llama-cpp (default auto; env ${ENV.runtime})`)
    .option('--media <multimodal|text-only>', `vLLM: images and audio, or text only (env ${ENV.media})`)
    .option('--json', 'print one JSON object (the stable schema in README.md) instead of the table')
    .addHelpText(
      'after',
      '\nExit codes: 0 ready, 3 skipped (this machine cannot run the model), 2 usage or configuration error.',
    )
    .action(async (flags: ProbeFlags) => {
      const env = process.env;
      // Start the Python probe (the slowest check) before anything else loads, then the rest of the scan, so
      // the children run on another core while this one loads the settings validators (zod: ~65 ms) and the
      // verdict code. A configuration error cancels them.
      const controller = new AbortController();
      const [{ createCommandRunner }, { inspectPython, pythonFromEnv }] = await Promise.all([
        import('../../core/subprocess.js'),
        import('../../probe/python-facts.js'),
      ]);
      const commands = createCommandRunner();
      const python = pythonFromEnv(env);
      const pythonFacts = inspectPython(commands, python, env, undefined, controller.signal);
      const { scanMachine } = await import('../../probe/scan.js');
      const scan = scanMachine({ env, python, commands, pythonFacts, signal: controller.signal });
      let settings;
      try {
        const { resolveSettings } = await import('../../core/settings.js');
        settings = resolveSettings(env, { model: flags.model, runtime: flags.runtime, media: flags.media });
      } catch (error) {
        controller.abort();
        throw error;
      }
      const { runProbe } = await import('../../probe/index.js');
      const report = await runProbe({ settings, env, scan });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        const { formatProbeReport, shouldUseColor } = await import('../probe-view.js');
        process.stdout.write(formatProbeReport(report, { color: shouldUseColor(process.stdout, env) }));
      }
      setExitCode(report.status === 'ready' ? ExitCode.Ok : ExitCode.Skipped);
    });
}
