import type { Command } from 'commander';
import type { BenchFlags } from '../../bench/command.js';
import { addTargetOptions, type TargetFlags } from '../target/flags.js';

export function registerBenchCommand(program: Command, setExitCode: (code: number) => void): void {
  const bench = program
    .command('bench')
    .description('measure time to first token and tokens/s at several concurrency levels');
  addTargetOptions(bench, 'bench')
    .option('--concurrency <list>', 'comma-separated numbers of simultaneous answers', '1,2,4,8')
    .option('--max-tokens <n>', 'tokens generated per answer', '128')
    .option('--requests <n>', 'answers per concurrency level (default: twice the level, at least 4)')
    .option('--prompt <text>', 'the prompt every answer starts from')
    .option('--json', 'print the run as one JSON object instead of a table')
    .action(async (flags: BenchFlags & TargetFlags) => {
      const { runBenchCommand } = await import('../../bench/command.js');
      const { targetResolver } = await import('../target/resolve.js');
      await runBenchCommand(flags, { setExitCode, resolveTarget: targetResolver(flags, 'bench') });
    });
}
