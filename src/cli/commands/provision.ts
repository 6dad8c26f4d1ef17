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
    .option('--runtime <auto|vllm|llama-cpp>', 'force a runtime (default: ATOMR_INFER_GEMMA_RUNTIME or auto)')
    .option('-y, --yes', 'do not ask before downloading')
    .option('--json', 'progress events and the outcome as JSON lines on stdout')
    .action(async (flags: ProvisionFlags) => {
      const { runProvisionCommand } = await import('../provisioning/provision-command.js');
      await runProvisionCommand(flags, { setExitCode });
    });
}
