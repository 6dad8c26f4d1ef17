import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, isolatedEnv, runCli } from './helpers/cli.js';
import { TmuxSession } from './helpers/tmux.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/**
 * The built CLI in a real pseudo-terminal (tmux): type a prompt, watch tokens stream, Ctrl-C stops the
 * answer and the app stays usable, /exit hands back a clean terminal. Real llama.cpp runner, tiny GGUF.
 */
const PROMPT = 'E2E$ ';
const tmux = new TmuxSession('chat-tui');
let cleanup: () => void = () => {};
let model: string;
let cliEnv: NodeJS.ProcessEnv;

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();

describe.skipIf(!TmuxSession.available())('atomr-infer chat in a terminal', () => {
  beforeAll(async () => {
    const isolated = isolatedEnv({ TERM: 'xterm-256color' });
    cleanup = isolated.cleanup;
    cliEnv = isolated.env;
    // A long context so an answer runs for seconds: there is time to see it stream and to stop it.
    model = await writeTinyGguf({
      arch: 'gemma3',
      seed: 21,
      endOfTurn: 'never',
      contextLength: 32768,
    });
    const env: NodeJS.ProcessEnv = {};
    for (const name of ['PATH', 'HOME', 'HF_HUB_CACHE', 'ATOMR_INFER_HOME', 'TERM', 'LANG']) {
      if (isolated.env[name] !== undefined) env[name] = isolated.env[name];
    }
    await tmux.start(env, PROMPT);
  });

  afterAll(() => {
    tmux.kill();
    cleanup();
  });

  it('shows exactly the answer `chat --prompt` prints for the same seed, row by row', async () => {
    const flags = `--model ${model} --threads 1 --seed 5 --max-tokens 400`;
    tmux.type(`${process.execPath} ${BIN} chat ${flags}; echo "EXIT_CODE=$?"`);
    tmux.keys('Enter');
    await tmux.waitFor((screen) => screen.includes('ready · /help'), 'the chat UI');
    tmux.type('Tell me a story');
    tmux.keys('Enter');
    await tmux.waitFor((screen) => screen.includes('400 tokens · max tokens reached'), 'the whole answer');
    const lines = tmux.capture(500).split('\n');
    const start = lines.findIndex((line) => line.startsWith('› Tell me a story'));
    const end = lines.findIndex((line, index) => index > start && line.trim() === '');
    const rows = lines.slice(start + 1, end);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((row) => row.length < 120)).toBe(true);

    const printed = await runCli(['chat', ...flags.split(' '), '--prompt', 'Tell me a story'], {
      env: cliEnv,
    });
    expect(squash(rows.join(' '))).toBe(squash(printed.stdout));

    tmux.type('/exit');
    tmux.keys('Enter');
    await tmux.waitFor((screen) => screen.includes('EXIT_CODE=0'), 'the shell after /exit');
    tmux.type('clear');
    tmux.keys('Enter');
    await tmux.waitFor((screen) => !screen.includes('EXIT_CODE'), 'a clear screen');
  });

  it('streams an answer, stops it on Ctrl-C, stays usable, and /exit restores the terminal', async () => {
    tmux.type(
      `${process.execPath} ${BIN} chat --model ${model} --threads 1 --seed 3 --ctx 32768; echo "EXIT_CODE=$?"`,
    );
    tmux.keys('Enter');
    await tmux.waitFor((screen) => screen.includes('ready · /help'), 'the chat UI');
    expect(tmux.capture()).toContain('atomr-infer chat');
    expect(tmux.capture()).toContain('llama-cpp');

    tmux.type('Tell me a long story');
    tmux.keys('Enter');
    const early = await tmux.waitFor((screen) => /generating · \d+ tokens/.test(screen), 'tokens streaming');
    const later = await tmux.waitFor(
      (screen) => /generating · \d+ tokens/.test(screen) && screen !== early,
      'more tokens',
    );
    const count = (screen: string) => Number(/generating · (\d+) tokens/.exec(screen)?.[1] ?? 0);
    expect(count(later)).toBeGreaterThan(count(early));

    tmux.keys('C-c');
    const stopped = await tmux.waitFor((screen) => screen.includes('[interrupted]'), 'the interrupted mark');
    expect(stopped).toMatch(/TTFT .* tok\/s .* interrupted/);
    expect(stopped).not.toMatch(/EXIT_CODE=\d/);

    tmux.type('/help');
    tmux.keys('Enter');
    await tmux.waitFor((screen) => screen.includes('forget the conversation'), 'the help text');

    tmux.type('/exit');
    tmux.keys('Enter');
    const after = await tmux.waitFor((screen) => screen.includes('EXIT_CODE=0'), 'the shell after /exit');
    expect(after.trimEnd().endsWith(PROMPT.trimEnd())).toBe(true);
    expect(tmux.cursorVisible()).toBe(true);
    // Raw mode is off again: the terminal is canonical with echo.
    tmux.type(`echo "RAW_FLAGS=$(stty -a | tr ' ;' '\\n\\n' | grep -cx -e -icanon -e -echo)"`);
    tmux.keys('Enter');
    await tmux.waitFor((screen) => screen.includes('RAW_FLAGS=0'), 'a cooked terminal');
  });
});
