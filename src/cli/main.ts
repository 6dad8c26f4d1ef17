import { Command, CommanderError } from 'commander';
import { EXIT_CODE_MEANINGS, ExitCode } from '../core/exit-codes.js';
import { UsageError } from '../core/errors.js';
import { ENV, OTHER_ENV } from '../core/env-names.js';
import { registerCommands } from './commands/index.js';
import { VERSION } from './version.js';

/**
 * Builds the commander program. Command modules only declare flags here; their heavy work (systeminformation,
 * node-llama-cpp, pythonia, Ink) is imported inside the action, so `--help` stays as fast as bare Node.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('atomr-infer')
    .description('A local Gemma model with zero configuration.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  registerCommands(program, setExitCode);

  program.addHelpText(
    'after',
    [
      '',
      'Environment:',
      ...[...Object.values(ENV), ...Object.values(OTHER_ENV)].map((name) => `  ${name}`),
      '',
      'Exit codes:',
      ...EXIT_CODE_MEANINGS.map(([code, meaning]) => `  ${String(code).padEnd(4)}${meaning}`),
    ].join('\n'),
  );
  return program;
}

/** Runs the CLI and resolves to its exit code. Errors propagate to bin/, the only place that catches them. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.Ok;
      }
      if (error.code === 'commander.executeSubCommandAsync') return error.exitCode;
      // One line, as every error is: commander puts its "(Did you mean …?)" on a second line.
      throw new UsageError(error.message.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' '), {
        code: 'usage',
        hint: 'see `atomr-infer --help`',
      });
    }
    throw error;
  }
  return exitCode;
}
