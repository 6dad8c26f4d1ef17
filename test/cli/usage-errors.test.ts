import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usableCpuCount } from '../../src/core/cpu-threads.js';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';

/** Usage errors are one line on stderr with a hint that names the right command, and exit 2. */
let env: NodeJS.ProcessEnv;
let cleanup: () => void;

beforeAll(() => {
  ({ env, cleanup } = isolatedEnv());
});
afterAll(() => cleanup());

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('atomr-infer:'));
}

describe('usage errors', () => {
  it('an unknown command is one line with the suggestion on it, exit 2', async () => {
    const run = await runCli(['frob'], { env });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([`atomr-infer: unknown command 'frob' (Did you mean probe?)`]);
    expect(run.stdout).toBe('');
  });

  it.each([
    ['serve', '--parallel', '999', 'an integer from 1 to 64'],
    ['bench', '--max-tokens', '0', 'an integer from 1 to 1048576'],
    ['chat', '--seed', '-1', 'an integer from 0 to 4294967295'],
  ])('%s %s out of range points at its own --help', async (command, flag, value, accepted) => {
    const run = await runCli([command, flag, value], { env });
    expect(run.exitCode).toBe(2);
    expect(errorLines(run.stderr)).toEqual([
      `atomr-infer: ${flag} "${value}" is not valid: expected ${accepted}`,
    ]);
    expect(run.stderr).toContain(`hint: see \`atomr-infer ${command} --help\``);
  });

  it("an error without a hint of its own gets its exit code's hint: every failure names a next step", async () => {
    const run = await runCli(['bench', '--concurrency', 'many'], { env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      'atomr-infer: --concurrency "many" is not valid: expected comma-separated integers from 1 to 64 (e.g. 1,2,4,8)',
      'hint: see `atomr-infer bench --help`',
    ]);
  });

  it.each(['chat', 'serve', 'bench'])(
    '%s --threads above the usable CPUs names the range',
    async (command) => {
      const run = await runCli([command, '--threads', '999'], { env });
      expect(run.exitCode).toBe(2);
      const cpus = usableCpuCount();
      expect(errorLines(run.stderr)).toEqual([
        `atomr-infer: --threads "999" is not valid: expected an integer from 1 to ${Math.min(256, cpus)} (this process may use ${cpus} CPU${cpus === 1 ? '' : 's'})`,
      ]);
    },
  );
});

describe('provision --runtime remote honours ATOMR_INFER_GEMMA_AUTO', () => {
  it('off: skipped with the reason, exit 3, nothing registered', async () => {
    const args = ['provision', '--runtime', 'remote', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm'];
    const run = await runCli(args, { env: { ...env, ATOMR_INFER_GEMMA_AUTO: 'off' } });
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toContain('auto-provisioning is off (ATOMR_INFER_GEMMA_AUTO=off)');
    const list = await runCli(['deployments', '--json'], { env });
    expect((JSON.parse(list.stdout) as { deployments: unknown[] }).deployments).toEqual([]);
  });

  it('skip-quietly: no output at all, exit 3', async () => {
    const args = ['provision', '--runtime', 'remote', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm'];
    const run = await runCli(args, { env: { ...env, ATOMR_INFER_GEMMA_AUTO: 'skip-quietly' } });
    expect(run.exitCode).toBe(3);
    expect(run.stdout + run.stderr).toBe('');
  });
});

describe('a closed stdout pipe', () => {
  it('ends quietly (like `atomr-infer --help | head -1`), without an EPIPE stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../e2e/helpers/cli.js');
    const child = spawn(process.execPath, [BIN, '--help'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Close the reading end before the CLI writes, the way `head` does once it has its lines.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
