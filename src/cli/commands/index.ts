import type { Command } from 'commander';
import { registerProbeCommand } from './probe.js';

/** Every subcommand, in the order `--help` lists them. Each module declares flags only; work loads lazily. */
export function registerCommands(program: Command, setExitCode: (code: number) => void): void {
  registerProbeCommand(program, setExitCode);
}
