import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runCli } from '../e2e/helpers/cli.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/** `chat --json-schema <file>`: one structured answer for a script, from a random-weight model held to a grammar. */
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let model: string;
let schemaFile: string;

beforeAll(async () => {
  ({ env, cleanup } = isolatedEnv());
  model = await writeTinyGguf({ arch: 'gemma4', seed: 5, endOfTurn: 'never' });
  schemaFile = join(env.HOME as string, 'answer.json');
  writeFileSync(
    schemaFile,
    JSON.stringify({
      type: 'object',
      properties: {
        mood: { type: 'string', enum: ['calm', 'wild'] },
        flags: { type: 'array', items: { type: 'boolean' }, maxItems: 2 },
      },
      required: ['mood', 'flags'],
    }),
  );
});
afterAll(() => cleanup());

const base = () => [
  'chat',
  '--model',
  model,
  '--threads',
  '1',
  '--max-tokens',
  '120',
  '--json-schema',
  schemaFile,
];

function valid(value: unknown): boolean {
  const { mood, flags } = value as { mood: unknown; flags: unknown };
  return (
    ['calm', 'wild'].includes(mood as string) &&
    Array.isArray(flags) &&
    flags.length <= 2 &&
    flags.every((flag) => typeof flag === 'boolean')
  );
}

describe('chat --json-schema', () => {
  it.each([1, 2])('stdout is JSON valid against the schema (seed %i)', async (seed) => {
    const run = await runCli([...base(), '--seed', String(seed), '-p', 'How are you?'], { env });
    expect(run.exitCode).toBe(0);
    expect(valid(JSON.parse(run.stdout)), run.stdout).toBe(true);
  });

  it('with --json, the token events join into the same valid JSON', async () => {
    const run = await runCli([...base(), '--seed', '3', '--json', '-p', 'Hi'], { env });
    expect(run.exitCode).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; text?: string });
    const text = events
      .filter((event) => event.type === 'token')
      .map((event) => event.text)
      .join('');
    expect(valid(JSON.parse(text)), text).toBe(true);
  });

  it.each([
    [['--json-schema', 'missing.json'], '--json-schema "missing.json": no such file'],
    [['--json-schema', '/'], '--json-schema "/": is a directory'],
  ])('a bad file is one line, exit 2: %j', async (args, message) => {
    const run = await runCli(['chat', '--model', model, ...args, '-p', 'hi'], { env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`atomr-infer: ${message}`);
  });

  it('a keyword the grammar cannot enforce is refused by name, exit 2', async () => {
    const strict = join(env.HOME as string, 'pattern.json');
    writeFileSync(strict, JSON.stringify({ type: 'string', pattern: '^[a-z]+$' }));
    const run = await runCli(
      ['chat', '--model', model, '--threads', '1', '--json-schema', strict, '-p', 'x'],
      {
        env,
      },
    );
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('response_format.json_schema.schema.pattern');
  });
});
