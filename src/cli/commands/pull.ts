import type { Command } from 'commander';
import type { PullFlags } from '../provisioning/pull-command.js';

export function registerPullCommand(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('pull')
    .description('download what a runner needs into the Hugging Face cache (resumable, verified)')
    .option(
      '-m, --model <id>',
      'catalog model id (default: ATOMR_INFER_GEMMA_MODEL or google/gemma-4-E4B-it)',
    )
    .option(
      '--runtime <auto|vllm|llama-cpp>',
      'which weights: safetensors (vllm) or a GGUF (llama-cpp); auto asks the probe',
    )
    .option('--revision <rev>', 'branch, tag or commit on the Hub (default: main)')
    .option(
      '--verify',
      're-hash the cached files against the Hub checksums and download again any that are damaged',
    )
    .option('--json', 'progress events and the result as JSON lines on stdout')
    .action(async (flags: PullFlags) => {
      const { runPullCommand } = await import('../provisioning/pull-command.js');
      await runPullCommand(flags, { setExitCode });
    });
}
