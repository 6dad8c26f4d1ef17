import type { Command } from 'commander';
import type { ProvisionFlags } from '../provisioning/provision-command.js';

export function registerProvisionCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('provision')
    .description(
      'probe, download and register the gemma-local deployment, then check it loads (exit 0 ready, 3 skipped)',
    )
    .option(
      '-m, --model <id>',
      'catalog model id (default: ATOMR_INFER_GEMMA_MODEL or google/gemma-4-E4B-it)',
    )
    .option(
      '--runtime <auto|vllm|llama-cpp|remote>',
      'force a runtime (default: ATOMR_INFER_GEMMA_RUNTIME or auto)',
    )
    .option('-y, --yes', 'do not ask before downloading')
    .option('--json', 'progress events and the outcome as JSON lines on stdout')
    .option(
      '--endpoint <url>',
      'with --runtime remote: register this OpenAI-compatible endpoint (nothing is downloaded)',
    )
    .action(async (flags: ProvisionFlags & { endpoint?: string }) => {
      const remote = await import('../../runners/remote/deployment.js');
      const { resolveSettings } = await import('../../core/settings.js');
      // Auto-provisioning off applies to every runtime: let the regular path report it (skipped, or silence).
      if (remote.wantsRemote(flags) && resolveSettings(process.env).auto === 'on') {
        const { deployment, changed } = await remote.provisionRemote(flags);
        const endpoint = String(deployment.settings.endpoint);
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ event: 'result', status: 'ready', changed, loadChecked: true, deployment })}\n`
            : `Ready: ${deployment.name} → ${deployment.model} on remote (${endpoint})${changed ? '' : ' (unchanged)'}\n`,
        );
        return;
      }
      const { runProvisionCommand } = await import('../provisioning/provision-command.js');
      await runProvisionCommand(
        remote.wantsRemote(flags) ? { ...flags, runtime: undefined, model: undefined } : flags,
        {
          setExitCode,
        },
      );
    });
}
