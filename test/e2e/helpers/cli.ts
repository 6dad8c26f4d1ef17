import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { requireBuiltCli } from '../../helpers/built-cli.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'atomr-infer.js');

/** A throw-away HOME with empty HF cache and state dirs, and no ATOMR_INFER_* / HF_* from the outer shell. */
export function isolatedEnv(extra: Record<string, string> = {}): {
  env: NodeJS.ProcessEnv;
  cleanup: () => void;
} {
  const home = mkdtempSync(join(tmpdir(), 'atomr-chat-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(ATOMR_INFER_|HF_|HUGGING|XDG_|NO_COLOR|FORCE_COLOR)/.test(name)) env[name] = value;
  }
  Object.assign(env, {
    HOME: home,
    HF_HUB_CACHE: join(home, 'hf-cache'),
    ATOMR_INFER_HOME: join(home, 'state'),
    // Tests never reach the network: anything that would is answered from the (empty) cache at once.
    HF_HUB_OFFLINE: '1',
    ...extra,
  });
  return { env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

export interface CliRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (dist/) with no terminal: stdin is `input` (or empty; `openStdin`: a pipe the test writes
 * to and never closes), stdout/stderr captured.
 */
export function runCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; openStdin?: boolean },
): ResultPromise & Promise<CliRun> {
  requireBuiltCli();
  return execa(process.execPath, [BIN, ...args], {
    env: options.env,
    extendEnv: false,
    ...(options.openStdin ? { stdin: 'pipe' as const } : { input: options.input ?? '' }),
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    stripFinalNewline: false,
  }) as ResultPromise & Promise<CliRun>;
}
