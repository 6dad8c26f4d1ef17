import type { Command } from 'commander';
import type { BenchFlags } from '../../bench/command.js';
import type { TargetFlags } from './serve.js';

export function registerBenchCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('bench')
    .description('measure time to first token and tokens/s at several concurrency levels')
    .option(
      '-m, --model <id|path.gguf|deployment>',
      'a catalog model id, a .gguf file or a deployment name (default: the gemma-local deployment)',
    )
    .option('--runtime <auto|llama-cpp|vllm|remote>', 'runtime for --model (default: auto → llama-cpp)')
    .option('--endpoint <url>', 'with --runtime remote: benchmark this OpenAI-compatible endpoint')
    .option('--concurrency <list>', 'comma-separated numbers of simultaneous answers', '1,2,4,8')
    .option('--max-tokens <n>', 'tokens generated per answer', '128')
    .option('--requests <n>', 'answers per concurrency level (default: twice the level, at least 4)')
    .option('--prompt <text>', 'the prompt every answer starts from')
    .option('--ctx <tokens>', 'context size in tokens per answer')
    .option('--threads <n>', 'CPU threads for llama.cpp (1 to the CPUs this process may use)')
    .option('--json', 'print the run as one JSON object instead of a table')
    .action(async (flags: BenchFlags & TargetFlags) => {
      const { runBenchCommand } = await import('../../bench/command.js');
      const { resolveRunnerTarget } = await import('./serve.js');
      await runBenchCommand(flags, {
        setExitCode,
        resolveTarget: (parallel) => resolveRunnerTarget(flags, process.env, parallel, 'bench'),
      });
    });
}
