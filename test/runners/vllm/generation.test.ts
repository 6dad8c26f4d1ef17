import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../../../src/core/errors.js';
import type { ExecuteBatch, ModelRunner, TokenChunk } from '../../../src/core/model-runner.js';
import type { VllmRunner } from '../../../src/runners/vllm/runner.js';
import { chat, collect, makeRunner, readRecord, useFakeVllm, type FakeEnv } from './helpers.js';

let env: FakeEnv | undefined;
let runner: ModelRunner | undefined;
afterEach(async () => {
  await runner?.dispose();
  runner = undefined;
  env?.restore();
  env = undefined;
});

function promptsSeen(): string[] {
  return readRecord(env?.recordFile ?? '')
    .filter((e) => e.event === 'add_request')
    .map((e) => e.prompt ?? '');
}

describe('chat rendering', () => {
  it("renders messages with the tokenizer's chat template (generation prompt added, BOS left to the engine)", async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    const batch: ExecuteBatch = {
      requestId: 'r1',
      model: 'google/gemma-4-E2B-it',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'How are ' },
            { type: 'text', text: 'you?' },
          ],
        },
      ],
      sampling: {},
      stream: true,
    };
    const { text } = await collect(runner.execute(batch));
    expect(promptsSeen()).toEqual([
      '<start_of_turn>system\nBe brief.<end_of_turn>\n<start_of_turn>user\nHi<end_of_turn>\n' +
        '<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\nHow are you?<end_of_turn>\n' +
        '<start_of_turn>model\n',
    ]);
    expect(text).toBe('Echo: How are you?');
  });

  it('falls back to a Gemma turn format when the tokenizer has no chat template', async () => {
    env = useFakeVllm({ FAKE_VLLM_NO_CHAT_TEMPLATE: '1' });
    runner = await makeRunner();
    await collect(
      runner.execute({
        ...chat('r1', 'Hi'),
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
      }),
    );
    expect(promptsSeen()).toEqual([
      '<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n',
    ]);
  });

  it('feeds a base model plain text (completion), and honours an explicit mode', async () => {
    env = useFakeVllm();
    runner = await makeRunner({}, 'google/gemma-4-E2B');
    expect(runner.describe().mode).toBe('completion');
    const { text } = await collect(
      runner.execute({ ...chat('r1', 'Once upon a time'), model: 'google/gemma-4-E2B' }),
    );
    expect(text).toBe('Echo: Once upon a time');
    await collect(runner.execute({ ...chat('r2', 'Hi'), mode: 'chat' }));
    expect(promptsSeen()).toEqual([
      'Once upon a time',
      '<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n',
    ]);
  });

  it('a text-only engine (limit_mm_per_prompt 0) refuses image parts with a clear message, not a drop', async () => {
    env = useFakeVllm();
    runner = await makeRunner({ limitMmPerPrompt: { image: 0, audio: 0 } });
    expect(runner.describe().media).toEqual([]);
    const batch: ExecuteBatch = {
      ...chat('r1', ''),
      messages: [
        { role: 'user', content: [{ type: 'image', data: new Uint8Array([1]), mediaType: 'image/png' }] },
      ],
    };
    await expect(collect(runner.execute(batch))).rejects.toThrow(
      'messages[0] contains an image part: the vLLM runner accepts text only',
    );
  });

  it('a forced call (required, or named) is decoded under structured outputs and returned as the call', async () => {
    env = useFakeVllm({ FAKE_VLLM_ANSWER: '{"name":"f","arguments":{"a":1}}' });
    runner = await makeRunner();
    const tools = [{ name: 'f', parameters: { type: 'object', properties: { a: { type: 'integer' } } } }];
    const { text, final } = await collect(
      runner.execute({ ...chat('r1', 'hi'), tools, toolChoice: 'required' }),
    );
    expect(text).toBe('');
    expect(final.finishReason).toBe('tool_calls');
    expect(final.toolCalls?.map((call) => [call.name, call.arguments])).toEqual([['f', '{"a":1}']]);
    const add = readRecord(env.recordFile).find((e) => e.event === 'add_request');
    expect(add?.params?.structured_outputs).toMatchObject({
      json: { oneOf: [{ properties: { name: { const: 'f' } } }] },
    });
    // tool_choice none: no tools on offer, a plain answer.
    const plain = await collect(runner.execute({ ...chat('r2', 'hi'), tools, toolChoice: 'none' }));
    expect(plain.final.finishReason).toBe('stop');
    expect(plain.final.toolCalls).toBeUndefined();
  });

  it('a response format reaches the engine as vLLM structured outputs (json schema, json object)', async () => {
    env = useFakeVllm({ FAKE_VLLM_ANSWER: '{"verdict":"yes"}' });
    runner = await makeRunner();
    const schema = { type: 'object', properties: { verdict: { type: 'string', enum: ['yes', 'no'] } } };
    const { text } = await collect(
      runner.execute({ ...chat('r1', 'hi'), responseFormat: { type: 'json_schema', schema } }),
    );
    expect(JSON.parse(text)).toEqual({ verdict: 'yes' });
    await collect(runner.execute({ ...chat('r2', 'hi'), responseFormat: { type: 'json_object' } }));
    const adds = readRecord(env.recordFile).filter((e) => e.event === 'add_request');
    expect(adds.map((add) => add.params?.structured_outputs)).toEqual([
      { json: schema, json_object: null },
      { json: null, json_object: true },
    ]);
  });

  it('a response format with tools on offer is refused (unsupported_tools), never one of them dropped', async () => {
    env = useFakeVllm({ FAKE_VLLM_ANSWER: '{"verdict":"yes"}' });
    runner = await makeRunner();
    const tools = [{ name: 'get_weather', parameters: { type: 'object', properties: {} } }];
    const both = { ...chat('r1', 'hi'), tools, responseFormat: { type: 'json_object' as const } };
    await expect(collect(runner.execute(both))).rejects.toMatchObject({
      code: 'unsupported_tools',
      exitCode: 2,
    });
    // With tool_choice none the tools are not on offer, and the response format applies.
    const { text } = await collect(runner.execute({ ...both, requestId: 'r2', toolChoice: 'none' }));
    expect(JSON.parse(text)).toEqual({ verdict: 'yes' });
    const adds = readRecord(env.recordFile).filter((e) => e.event === 'add_request');
    expect(adds.map((add) => add.params?.structured_outputs)).toEqual([{ json: null, json_object: true }]);
  });
});

describe('sampling, finish reasons and usage', () => {
  it('passes sampling parameters in vLLM spelling, with no 16-token default', async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    await collect(runner.execute(chat('r1', 'a b', { temperature: 0.2, topP: 0.9, topK: 40, seed: 7 })));
    const [add] = readRecord(env.recordFile).filter((e) => e.event === 'add_request');
    expect(add?.params).toMatchObject({ temperature: 0.2, top_p: 0.9, top_k: 40, seed: 7, max_tokens: null });
  });

  it('ends at a stop string without leaking it, and reports usage on the final chunk', async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    const { text, chunks, final } = await collect(
      runner.execute(chat('r1', 'one two three four five', { stop: ['three'] })),
    );
    expect(text).toBe('Echo: one two ');
    expect(chunks.every((c) => !c.textDelta.includes('thr'))).toBe(true);
    // The double counts one token per whitespace-led word, plus BOS; output: "Echo:", "one", "two", "three".
    const promptTokens = (promptsSeen()[0]?.match(/\s*\S+/g)?.length ?? 0) + 1;
    expect(final).toMatchObject({
      finishReason: 'stop',
      usage: { input: promptTokens, output: 4, cached: 0 },
    });
    expect(chunks.slice(0, -1).every((c) => c.finishReason === undefined && c.usage === undefined)).toBe(
      true,
    );
  });

  it('finishes with `length` at maxTokens', async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    const { text, final } = await collect(
      runner.execute(chat('r1', 'one two three four five', { maxTokens: 3 })),
    );
    expect(text).toBe('Echo: one two');
    expect(final).toMatchObject({ finishReason: 'length', usage: { output: 3 } });
  });

  it('caps max_tokens at max_model_len and says when the context, not max_tokens, ended the answer', async () => {
    env = useFakeVllm();
    runner = await makeRunner({ maxModelLen: 30 });
    const full = await collect(runner.execute(chat('r1', 'w '.repeat(20), { maxTokens: 1e12 })));
    expect(full.final).toMatchObject({ finishReason: 'length', contextFull: true });
    expect((full.final.usage?.input ?? 0) + (full.final.usage?.output ?? 0)).toBe(30);
    const sent = readRecord(env.recordFile).find((e) => e.event === 'add_request');
    expect(sent?.params?.max_tokens).toBe(30);
    const short = await collect(runner.execute(chat('r2', 'w '.repeat(20), { maxTokens: 2 })));
    expect(short.final).toMatchObject({ finishReason: 'length', usage: { output: 2 } });
    expect(short.final.contextFull).toBeUndefined();
  });

  it('fails only the request the engine rejects', async () => {
    env = useFakeVllm();
    runner = await makeRunner({ maxModelLen: 12 });
    const tooLong = collect(runner.execute(chat('long', 'w '.repeat(40))));
    const fine = collect(runner.execute(chat('short', 'ok')));
    await expect(tooLong).rejects.toThrow(
      /vLLM rejected request long: ValueError: The decoder prompt \(length \d+\)/,
    );
    await expect(tooLong).rejects.toMatchObject({ hint: expect.stringMatching(/--ctx/) });
    expect((await fine).text).toBe('Echo: ok');
  });
});

describe('concurrency', () => {
  it('gives each of 8 concurrent requests exactly its own full text, in one bridge call per step', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '2' });
    runner = await makeRunner();
    const words = (i: number): string =>
      `request ${i} ${'alpha bravo charlie delta'
        .split(' ')
        .slice(0, 1 + (i % 4))
        .join(' ')}`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => collect(runner!.execute(chat(`req-${i}`, words(i))))),
    );
    results.forEach((result, i) => {
      expect(result.text).toBe(`Echo: ${words(i)}`);
      expect(result.chunks.every((c) => c.requestId === `req-${i}`)).toBe(true);
      expect(result.final.finishReason).toBe('stop');
    });
    const stats = (runner as VllmRunner).stats();
    // The longest answer is "Echo:" + 6 words, then end of sequence: 8 engine steps, each in one bridge call.
    expect(stats.engineSteps).toBe(8);
    expect(stats.calls).toBe(8);
  });

  it('uses no more bridge calls for 8 requests than for 1', async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    await collect(runner.execute(chat('solo', 'a b c d')));
    const solo = (runner as VllmRunner).stats().calls;
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => collect(runner!.execute(chat(`r${i}`, 'a b c d')))),
    );
    expect((runner as VllmRunner).stats().calls - solo).toBe(solo);
  });

  it('takes in requests that arrive while others are streaming', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '5' });
    runner = await makeRunner();
    const first = runner.execute(chat('first', 'one two three four five six'));
    const iterator = first[Symbol.asyncIterator]();
    const head = await iterator.next();
    const late = await collect(runner.execute(chat('late', 'x y')));
    let rest = '';
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      rest += next.value.textDelta;
    expect((head.value as TokenChunk).textDelta + rest).toBe('Echo: one two three four five six');
    expect(late.text).toBe('Echo: x y');
  });

  it('rejects a request id that is already running', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '5' });
    runner = await makeRunner();
    const first = collect(runner.execute(chat('same', 'a b c')));
    await expect(collect(runner.execute(chat('same', 'd')))).rejects.toThrow(
      /request id "same" is already running/,
    );
    expect((await first).text).toBe('Echo: a b c');
  });
});

describe('abort', () => {
  it('stops a request when its signal aborts: abort chunk now, abort_request at the next step', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '5' });
    runner = await makeRunner();
    const controller = new AbortController();
    const other = collect(runner.execute(chat('other', 'p q r s t u v w')));
    const chunks: TokenChunk[] = [];
    for await (const chunk of runner.execute(chat('victim', 'one two three four five six seven eight nine'), {
      signal: controller.signal,
    })) {
      chunks.push(chunk);
      if (chunks.length === 2) controller.abort();
    }
    const final = chunks.at(-1);
    expect(final).toMatchObject({ finishReason: 'abort', textDelta: '' });
    expect(final?.usage?.input).toBeGreaterThan(0);
    expect(chunks.map((c) => c.textDelta).join('')).toBe('Echo: one');
    expect((await other).text).toBe('Echo: p q r s t u v w');
    const aborts = readRecord(env.recordFile).filter((e) => e.event === 'abort_request');
    expect(aborts).toEqual([{ event: 'abort_request', request_ids: ['victim'] }]);
  });

  it('aborts in the engine when the consumer leaves the stream early', async () => {
    env = useFakeVllm({ FAKE_VLLM_STEP_DELAY_MS: '5' });
    runner = await makeRunner();
    for await (const chunk of runner.execute(chat('quitter', 'one two three four five six seven eight'))) {
      if (chunk.textDelta) break;
    }
    // The next request runs after the abort has been applied at a step boundary.
    await collect(runner.execute(chat('next', 'a')));
    const record = readRecord(env.recordFile).map((e) => e.event);
    expect(record).toEqual(['engine_args', 'add_request', 'abort_request', 'add_request']);
  });

  it('never sends a request whose signal is already aborted', async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    const { chunks } = await collect(runner.execute(chat('r1', 'a'), { signal: AbortSignal.abort() }));
    expect(chunks).toEqual([
      { requestId: 'r1', textDelta: '', finishReason: 'abort', usage: { input: 0, output: 0, cached: 0 } },
    ]);
    expect(readRecord(env.recordFile)).toEqual([]);
  });

  it('demultiplexes by our ids when vLLM reports outputs under the caller id too', async () => {
    env = useFakeVllm({ FAKE_VLLM_OUTPUT_IDS: 'external' });
    runner = await makeRunner();
    const [a, b] = await Promise.all([
      collect(runner.execute(chat('a', 'x'))),
      collect(runner.execute(chat('b', 'y z'))),
    ]);
    expect([a.text, b.text]).toEqual(['Echo: x', 'Echo: y z']);
  });
});

it('is a RuntimeFailure (exit 5) when used after dispose', async () => {
  env = useFakeVllm();
  runner = await makeRunner();
  await runner.dispose();
  await expect(collect(runner.execute(chat('r', 'a')))).rejects.toBeInstanceOf(RuntimeFailure);
});

describe('thinking (Gemma 4 channels)', () => {
  const raw = '<|channel>thought\nThe user greets; reply kindly.<channel|>Hello, friend.';

  it('renders with enable_thinking, keeps special tokens, and streams the thought apart from the answer', async () => {
    env = useFakeVllm({ FAKE_VLLM_ANSWER: raw });
    runner = await makeRunner();
    const { text, chunks, final } = await collect(runner.execute({ ...chat('t1', 'Hi'), thinking: true }));
    const thought = chunks.map((c) => c.thoughtDelta ?? '').join('');
    expect(thought).toBe('The user greets; reply kindly.');
    expect(text).toBe('Hello, friend.');
    expect(final.finishReason).toBe('stop');
    const add = readRecord(env.recordFile).find((e) => e.event === 'add_request');
    expect(add?.prompt).toContain('<|think|>');
    expect(add?.params).toMatchObject({ skip_special_tokens: false });
  });

  it('without thinking, the prompt has no <|think|> and vLLM keeps skipping special tokens', async () => {
    env = useFakeVllm({ FAKE_VLLM_ANSWER: 'Plain answer.' });
    runner = await makeRunner();
    const { text, chunks } = await collect(runner.execute(chat('t2', 'Hi')));
    expect(text).toBe('Plain answer.');
    expect(chunks.every((c) => c.thoughtDelta === undefined)).toBe(true);
    const add = readRecord(env.recordFile).find((e) => e.event === 'add_request');
    expect(add?.prompt).not.toContain('<|think|>');
    expect(add?.params).toMatchObject({ skip_special_tokens: true });
  });
});

describe('tools (Gemma 4 tool calls)', () => {
  it('auto: declares the tools through the chat template and returns the calls the model writes', async () => {
    const Q = '<|"|>';
    env = useFakeVllm({
      FAKE_VLLM_ANSWER: `<|tool_call>call:get_weather{city:${Q}Paris, "FR"${Q},days:2}<tool_call|><|tool_call>call:note{}<tool_call|>`,
    });
    runner = await makeRunner();
    const tools = [
      { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'note', parameters: { type: 'object' } },
    ];
    const { text, final } = await collect(runner.execute({ ...chat('c1', 'weather?'), tools }));
    expect(text).toBe('');
    expect(final.finishReason).toBe('tool_calls');
    expect(final.toolCalls?.map((call) => [call.name, JSON.parse(call.arguments) as unknown])).toEqual([
      ['get_weather', { city: 'Paris, "FR"', days: 2 }],
      ['note', {}],
    ]);
    const add = readRecord(env.recordFile).find((e) => e.event === 'add_request');
    expect(add?.prompt).toContain('<|tool>declaration:get_weather');
    expect(add?.params).toMatchObject({ skip_special_tokens: false });
  });
});

describe('tool round trip', () => {
  it('an assistant call and its tool result reach the chat template as Gemma 4 renders them', async () => {
    env = useFakeVllm();
    runner = await makeRunner();
    await collect(
      runner.execute({
        ...chat('t1', ''),
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          },
          { role: 'tool', content: '{"temp":21}', toolCallId: 'call_1' },
        ],
        tools: [{ name: 'get_weather', parameters: { type: 'object' } }],
      }),
    );
    const add = readRecord(env.recordFile).find((e) => e.event === 'add_request');
    expect(add?.prompt).toContain('<|tool_call>call:get_weather{"city": "Paris"}<tool_call|>');
    expect(add?.prompt).toContain('<|tool_response>response:call_1{"temp":21}<tool_response|>');
  });
});
