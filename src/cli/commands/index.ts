import type { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerChatCommand } from './chat.js';
import { registerDeploymentsCommand } from './deployments.js';
import { registerProbeCommand } from './probe.js';
import { registerProvisionCommand } from './provision.js';
import { registerPullCommand } from './pull.js';
import { registerServeCommand } from './serve.js';

/** Every subcommand, in the order `--help` lists them. Each module declares flags only; work loads lazily. */
export function registerCommands(program: Command, setExitCode: (code: number) => void): void {
  registerProbeCommand(program, setExitCode);
  registerPullCommand(program, setExitCode);
  registerProvisionCommand(program, setExitCode);
  registerDeploymentsCommand(program, setExitCode);
  registerChatCommand(program, setExitCode);
  registerServeCommand(program, setExitCode);
  registerBenchCommand(program, setExitCode);
}
