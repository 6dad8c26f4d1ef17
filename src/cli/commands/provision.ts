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
    .option(
      '--media <multimodal|text-only>',
      'vLLM: take images and audio (default), or text only — the encoders are then not profiled at start (env ATOMR_INFER_GEMMA_MEDIA)',
    )
    .option('-y, --yes', 'do not ask before downloading')
    .option('--json', 'progress events and the outcome as JSON lines on stdout')
    .option(
      '--endpoint <url>',
      'with --runtime remote: register this OpenAI-compatible endpoint (nothing is downloaded)',
    )
    .action(async (flags: ProvisionFlags & { endpoint?: string }) => {
      const { isRemoteTarget, remoteTarget } = await import('../target/resolve.js');
      const { resolveSettings } = await import('../../core/settings.js');
      const settings = resolveSettings(process.env);
      const target = { model: flags.model?.trim(), runtime: flags.runtime, endpoint: flags.endpoint?.trim() };
      // Auto-provisioning off applies to every runtime: let the regular path report it (skipped, or silence).
      if (isRemoteTarget(target) && settings.auto === 'on') {
        // The same resolver chat, serve and bench use; only a missing --model means the catalog default here.
        const { spec } = remoteTarget(target, settings.model);
        const remote = await import('../../runners/remote/deployment.js');
        const { deployment, changed } = await remote.provisionRemote(spec);
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
        isRemoteTarget(target) ? { ...flags, runtime: undefined, model: undefined } : flags,
        {
          setExitCode,
        },
      );
    });
}
