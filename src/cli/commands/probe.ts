import type { Command } from 'commander';

export function registerProbeCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('probe')
    .description('check this machine and say which runner would serve the model')
    .action(() => {
      setExitCode(1);
      throw new Error('probe: not implemented yet');
    });
}
