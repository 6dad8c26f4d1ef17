import type { Command } from 'commander';

export function registerDeploymentsCommand(program: Command, setExitCode: (code: number) => void): void {
  const deployments = program
    .command('deployments')
    .description(
      'list the registered deployments (gemma-local and others); `deployments rm <name>` removes one',
    )
    .option('--json', 'print them as JSON on stdout')
    .action(async (flags: { json?: boolean }) => {
      const { listDeployments } = await import('../provisioning/deployments-command.js');
      await listDeployments(flags, { setExitCode });
    });
  deployments
    .command('rm <name>')
    .description('remove a deployment from the registry (the cached weights stay)')
    .option('--json', 'print the removed deployment as JSON on stdout')
    .action(async (name: string, _flags: { json?: boolean }, command: Command) => {
      const { removeDeployment } = await import('../provisioning/deployments-command.js');
      // `--json` may land on `deployments` itself (commander reads parent options after the subcommand too).
      await removeDeployment(name, command.optsWithGlobals<{ json?: boolean }>(), { setExitCode });
    });
}
