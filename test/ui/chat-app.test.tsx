import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/chat/conversation.js';
import { ChatApp } from '../../src/ui/ChatApp.js';
import { ChatController } from '../../src/ui/chat-controller.js';
import { PLAIN_THEME } from '../../src/ui/theme.js';
import { KEY, tick, until } from './helpers/ink.js';
import { createScriptedRunner, type ScriptedRunnerOptions } from './helpers/scripted-runner.js';

type Mounted = ReturnType<typeof render> & { controller: ChatController; exits: number[] };
const mounted: Mounted[] = [];

function mount(
  script: ScriptedRunnerOptions,
  { mode = 'chat', system }: { mode?: 'chat' | 'completion'; system?: string } = {},
) {
  const runner = createScriptedRunner(script);
  const conversation = new Conversation('tiny-test', mode, { seed: 1 }, system);
  const controller = new ChatController(
    runner,
    conversation,
    { ...runner.describe(), mode },
    {
      flushMs: 5,
      renderBudget: 1,
    },
  );
  const exits: number[] = [];
  const app = render(<ChatApp controller={controller} theme={PLAIN_THEME} onExit={() => exits.push(1)} />);
  const result = Object.assign(app, { controller, exits });
  mounted.push(result);
  return { ...result, runner };
}

async function type(app: { stdin: { write(data: string): void } }, text: string) {
  app.stdin.write(text);
  await tick(20);
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

afterEach(async () => {
  for (const app of mounted.splice(0)) {
    await app.controller.close();
    app.unmount();
  }
});

describe('ChatApp', () => {
  it('shows model, runtime and device in the header, and an input line', () => {
    const app = mount({
      answers: [['hi']],
      description: { model: 'tiny-gemma.gguf', device: 'CPU · 1 thread' },
    });
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('tiny-gemma.gguf');
    expect(frame).toContain('llama-cpp');
    expect(frame).toContain('CPU · 1 thread');
    expect(frame).toContain('›');
    expect(frame).toContain('ready');
  });

  it('streams the answer as tokens arrive, then shows TTFT and tokens/s', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const app = mount({ answers: [['Hello', ' there', ',', ' friend', '.']], delayMs: 25, gate });
    await type(app, 'say hello');
    expect(app.lastFrame()).toContain('say hello');
    await type(app, KEY.enter);
    expect(app.lastFrame()).toContain('waiting for the first token');
    open();
    await until(() => (app.lastFrame() ?? '').includes('Hello there'), 'a partial answer');
    const partial = app.lastFrame() ?? '';
    expect(partial).not.toContain('friend.');
    expect(partial).toMatch(/generating · \d+ tokens · TTFT/);
    await app.controller.idle();
    await tick();
    const done = app.lastFrame() ?? '';
    expect(done).toContain('Hello there, friend.');
    expect(done).toMatch(/TTFT [\d.]+ ms · [\d,.]+ tok\/s · 5 tokens · done/);
    expect(app.runner.batches[0]?.messages.at(-1)).toEqual({ role: 'user', content: 'say hello' });
  });

  it('writes finished turns once (Static history) and sends the whole conversation each turn', async () => {
    const app = mount(
      {
        answers: [
          ['First', ' answer'],
          ['Second', ' answer'],
        ],
      },
      { system: 'be brief' },
    );
    await type(app, 'one');
    await type(app, KEY.enter);
    await app.controller.idle();
    await type(app, 'two');
    await type(app, KEY.enter);
    await app.controller.idle();
    await tick();
    const frame = app.lastFrame() ?? '';
    expect(occurrences(frame, 'First answer')).toBe(1);
    expect(occurrences(frame, 'Second answer')).toBe(1);
    expect(frame.indexOf('First answer')).toBeLessThan(frame.indexOf('Second answer'));
    expect(app.runner.batches[1]?.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'First answer' },
      { role: 'user', content: 'two' },
    ]);
  });

  it('Ctrl-C during an answer stops it, keeps the partial text marked [interrupted], and stays usable', async () => {
    const words = Array.from({ length: 200 }, (_, i) => ` w${i}`);
    const app = mount({ answers: [words, ['Next', ' one']], delayMs: 5 });
    await type(app, 'long');
    await type(app, KEY.enter);
    await until(() => /w\d/.test(app.lastFrame() ?? ''), 'the first tokens');
    await type(app, KEY.ctrlC);
    await app.controller.idle();
    await tick();
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('[interrupted]');
    expect(frame).toContain(' w0');
    expect(frame).not.toContain('w199');
    expect(frame).toContain('interrupted');
    expect(app.exits).toEqual([]);

    await type(app, 'again');
    await type(app, KEY.enter);
    await app.controller.idle();
    await tick();
    expect(app.lastFrame()).toContain('Next one');
    // The model saw the partial answer it had given.
    const history = app.runner.batches[1]?.messages ?? [];
    expect(history[1]?.role).toBe('assistant');
    expect(String(history[1]?.content)).toMatch(/^ w0 w1/);
  });

  it('/help lists the commands and keys', async () => {
    const app = mount({ answers: [['x']] });
    await type(app, '/help');
    await type(app, KEY.enter);
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('/reset');
    expect(frame).toContain('/exit');
    expect(frame).toContain('Ctrl-C');
    expect(app.runner.batches).toHaveLength(0);
  });

  it('/reset forgets earlier turns', async () => {
    const app = mount({ answers: [['A'], ['B']] });
    await type(app, 'first');
    await type(app, KEY.enter);
    await app.controller.idle();
    await type(app, '/reset');
    await type(app, KEY.enter);
    expect(app.lastFrame()).toContain('Conversation reset');
    await type(app, 'second');
    await type(app, KEY.enter);
    await app.controller.idle();
    expect(app.runner.batches[1]?.messages).toEqual([{ role: 'user', content: 'second' }]);
  });

  it('an unknown slash command is reported, not sent to the model', async () => {
    const app = mount({ answers: [['x']] });
    await type(app, '/frobnicate');
    await type(app, KEY.enter);
    expect(app.lastFrame()).toContain('Unknown command /frobnicate');
    expect(app.runner.batches).toHaveLength(0);
  });

  it('Ctrl-C on an empty prompt leaves; with text it clears the prompt first', async () => {
    const app = mount({ answers: [['x']] });
    await type(app, 'draft');
    await type(app, KEY.ctrlC);
    expect(app.exits).toEqual([]);
    expect(app.lastFrame()).not.toContain('draft');
    await type(app, KEY.ctrlC);
    expect(app.exits).toEqual([1]);
  });

  it('Ctrl-D on an empty prompt leaves, and /exit leaves', async () => {
    const a = mount({ answers: [['x']] });
    await type(a, KEY.ctrlD);
    expect(a.exits).toEqual([1]);
    const b = mount({ answers: [['x']] });
    await type(b, '/exit');
    await type(b, KEY.enter);
    expect(b.exits).toEqual([1]);
  });

  it('says when a base model runs in completion mode, and sends each prompt on its own', async () => {
    const app = mount({ answers: [['once upon'], ['a time']] }, { mode: 'completion', system: 'ignored' });
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('Base model: completion mode');
    expect(frame).toContain('--system is ignored');
    await type(app, 'The story');
    await type(app, KEY.enter);
    await app.controller.idle();
    await type(app, 'Another');
    await type(app, KEY.enter);
    await app.controller.idle();
    expect(app.runner.batches[1]).toMatchObject({
      mode: 'completion',
      messages: [{ role: 'user', content: 'Another' }],
    });
  });

  it('a runner failure is shown as an error and the chat goes on', async () => {
    const app = mount({
      answers: [['partial', ' text', ' more']],
      failAfter: { deltas: 2, error: new Error('engine fell over') },
    });
    await type(app, 'go');
    await type(app, KEY.enter);
    await app.controller.idle();
    await tick();
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('partial text');
    expect(frame).toContain('error: engine fell over');
    expect(frame).toContain('failed');
    await type(app, 'still here');
    expect(app.lastFrame()).toContain('still here');
  });

  it('backspace and Ctrl-U edit the prompt', async () => {
    const app = mount({ answers: [['x']] });
    await type(app, 'helloo');
    await type(app, KEY.backspace);
    expect(app.lastFrame()).toContain('› hello');
    await type(app, KEY.ctrlU);
    expect(app.lastFrame()).not.toContain('hello');
  });

  it('a line break arriving with the text (fast typing, paste) submits the line before it', async () => {
    const app = mount({ answers: [['Pasted', ' answer']] });
    await type(app, 'first line\rsecond');
    await app.controller.idle();
    await tick();
    expect(app.runner.batches.map((batch) => batch.messages.at(-1)?.content)).toEqual(['first line']);
    const frame = app.lastFrame() ?? '';
    expect(frame).toContain('Pasted answer');
    expect(frame).toContain('› second');
  });
});
