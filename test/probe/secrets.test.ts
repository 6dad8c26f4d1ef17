import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, runCli, type Sandbox } from './cli-helpers.js';

/**
 * No token value may reach stdout or stderr, in any mode: human, --json, skipped, configuration errors, and
 * when a child process (nvidia-smi, python) echoes it in an error message. One token has the hf_ shape; the
 * others do not, so they are hidden only because the probe registered them as secrets.
 */
const ENV_TOKEN = 'hf_EnvTokenValue0123456789abcdefXYZ';
const LEGACY_TOKEN = 'legacyHubTokenValue-4242';
const FILE_TOKEN = 'plainFileSecretValue-7777';
const TOKENS = [ENV_TOKEN, LEGACY_TOKEN, FILE_TOKEN];

let box: Sandbox;
beforeAll(() => {
  box = createSandbox();
  // A child that leaks every token it can think of into its error output.
  box.bin.addScript('nvidia-smi', `echo "nvml error ${TOKENS.join(' ')}" >&2; exit 1`);
  box.bin.addScript('python-leaky', `echo "Traceback: ${TOKENS.join(' ')}" >&2; exit 1`);
  mkdirSync(join(box.home, 'hf'), { recursive: true });
  writeFileSync(join(box.home, 'hf', 'token'), `${FILE_TOKEN}\n`);
});
afterAll(() => box.cleanup());

const MODES = [
  ['probe'],
  ['probe', '--json'],
  ['probe', '--runtime', 'vllm'],
  ['probe', '--json', '--runtime', 'vllm'],
].map((args) => [args.join(' '), args] as const);

/** Each case: the environment, the label the report shows, and the tokens configured (the file always is). */
const SOURCES = [
  { label: 'HF_TOKEN', env: { HF_TOKEN: ENV_TOKEN }, secrets: [ENV_TOKEN, FILE_TOKEN] },
  {
    label: 'HUGGING_FACE_HUB_TOKEN',
    env: { HUGGING_FACE_HUB_TOKEN: LEGACY_TOKEN },
    secrets: [LEGACY_TOKEN, FILE_TOKEN],
  },
  { label: 'token file', env: {}, secrets: [FILE_TOKEN] },
];

describe.each(SOURCES)('token from $label', ({ label, env: extra, secrets }) => {
  const env = (more: NodeJS.ProcessEnv = {}) => box.env({ HF_HOME: join(box.home, 'hf'), ...extra, ...more });
  const expectHidden = (...texts: string[]) => {
    for (const token of secrets) for (const text of texts) expect(text).not.toContain(token);
  };

  it.each(MODES)('never prints it: atomr-infer %s', async (_, args) => {
    const result = await runCli(args, env());
    expect([0, 3]).toContain(result.code);
    expectHidden(result.stdout, result.stderr);
    // The source is reported, and the leaking child's message still reaches the user, redacted.
    if (args.includes('--json')) expect(result.stdout).toContain(label);
    expect(result.stdout).toContain('nvml error');
  });

  it('never prints it when the interpreter leaks it', async () => {
    const leaky = await runCli(
      ['probe', '--json'],
      env({ ATOMR_INFER_PYTHON: join(box.bin.dir, 'python-leaky') }),
    );
    expect(leaky.stdout).toContain('Traceback');
    expectHidden(leaky.stdout, leaky.stderr);
  });
});

describe('on a configuration error', () => {
  it('never prints the tokens, in either mode', async () => {
    const env = box.env({
      HF_HOME: join(box.home, 'hf'),
      HF_TOKEN: ENV_TOKEN,
      ATOMR_INFER_GEMMA_MAX_LEN: 'lots',
    });
    for (const args of [['probe', '--json'], ['probe']]) {
      const bad = await runCli(args, env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('ATOMR_INFER_GEMMA_MAX_LEN="lots" is not valid');
      for (const token of [ENV_TOKEN, FILE_TOKEN]) {
        expect(bad.stdout).not.toContain(token);
        expect(bad.stderr).not.toContain(token);
      }
    }
  });
});
