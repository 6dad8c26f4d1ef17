import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TokenChunk } from '../../src/core/model-runner.js';
import { startServer, type RunningServer } from '../../src/serve/start.js';
import { createRunner } from '../../src/runners/index.js';
import { writeTinyGguf } from '../helpers/gguf/index.mjs';

/**
 * Tool calls through the official OpenAI client, over the real llama.cpp runner and a tiny random-weight Gemma 4
 * GGUF. Such a model never chooses to call a tool, so the tests force the shape (a named function, `required`)
 * with bounded schemas (enum, maxLength, maxItems): the grammar then makes every call valid, and every path —
 * the call, its streaming, the round trip with a `tool` result — runs for real.
 */
let server: RunningServer;
let client: OpenAI;

beforeAll(async () => {
  const path = await writeTinyGguf({ arch: 'gemma4', seed: 12, endOfTurn: 'never' });
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    model: { id: 'gemma', aliases: [], created: 0 },
    loadRunner: () =>
      createRunner({
        runtime: 'llama-cpp',
        model: 'gemma',
        weights: { kind: 'local-path', path },
        settings: { threads: 1, contextSize: 2048, sequences: 2 },
      }),
    parallel: 2,
    maxQueue: 4,
    shutdownGraceMs: 1000,
    log: { level: 'silent', format: 'json' },
  });
  await server.ready;
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

const weather = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['city', 'unit'],
    },
  },
};
const note = {
  type: 'function' as const,
  function: {
    name: 'take_note',
    parameters: {
      type: 'object',
      properties: {
        text: { type: 'string', maxLength: 10 },
        tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] }, maxItems: 2 },
      },
      required: ['text', 'tags'],
    },
  },
};

function validWeather(args: string): boolean {
  const value = JSON.parse(args) as { city?: string; unit?: string };
  return (
    ['Paris', 'Oslo', 'Lima'].includes(value.city ?? '') &&
    ['celsius', 'fahrenheit'].includes(value.unit ?? '')
  );
}

describe('serve: tools on the llama.cpp runner', () => {
  it('a named function: message.tool_calls with id, type, name and JSON arguments; finish_reason tool_calls', async () => {
    const answer = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weather, note],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 120,
      seed: 3,
    });
    const choice = answer.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls?.[0];
    expect(call).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
    expect(call?.id).toMatch(/^call_/);
    expect(validWeather((call as { function: { arguments: string } }).function.arguments)).toBe(true);
  });

  it('required: one of the tools, named by the model, with valid arguments', async () => {
    const answer = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'Do something.' }],
      tools: [weather, note],
      tool_choice: 'required',
      max_tokens: 160,
      seed: 8,
    });
    const call = answer.choices[0]!.message.tool_calls?.[0] as {
      function: { name: string; arguments: string };
    };
    expect(['get_weather', 'take_note']).toContain(call.function.name);
    expect(() => JSON.parse(call.function.arguments) as unknown).not.toThrow();
    expect(answer.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('streamed: the call arrives by index, arguments in pieces that join into valid JSON', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 120,
      seed: 5,
      stream: true,
    });
    let name = '';
    let args = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
      }
      finish = choice?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(validWeather(args)).toBe(true);
    expect(finish).toBe('tool_calls');
  });

  it('a full round trip: the call, the tool result, and the next answer', async () => {
    const first = await client.chat.completions.create({
      model: 'gemma',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [weather],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 120,
      seed: 2,
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const second = await client.chat.completions.create({
      model: 'gemma',
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temperature": 3}' },
      ],
      tools: [weather],
      max_tokens: 8,
      seed: 2,
    });
    expect(second.choices[0]!.finish_reason).toBe('length');
    expect((second.choices[0]!.message.content ?? '').length).toBeGreaterThan(0);
  });

  it('auto: the tools are declared to the model (a longer prompt), which here answers in text', async () => {
    const ask = (tools?: (typeof weather)[]) =>
      client.chat.completions.create({
        model: 'gemma',
        messages: [{ role: 'user', content: 'Hello' }],
        ...(tools ? { tools } : {}),
        max_tokens: 4,
        seed: 1,
      });
    const plain = await ask();
    const withTools = await ask([weather]);
    expect(withTools.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens);
    expect(withTools.choices[0]!.finish_reason).toBe('length');
    expect(withTools.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it('the remote runner passes tools through and assembles the streamed call', async () => {
    const remote = await createRunner({
      runtime: 'remote',
      model: 'gemma',
      weights: { kind: 'runtime-managed', id: 'gemma' },
      settings: { endpoint: `${server.url}/v1` },
    });
    const chunks: TokenChunk[] = [];
    for await (const chunk of remote.execute({
      requestId: 'r',
      model: 'gemma',
      messages: [{ role: 'user', content: 'Weather?' }],
      sampling: { maxTokens: 120, seed: 4 },
      stream: true,
      tools: [{ name: 'get_weather', parameters: weather.function.parameters }],
      toolChoice: { name: 'get_weather' },
    })) {
      chunks.push(chunk);
    }
    await remote.dispose();
    const final = chunks.at(-1)!;
    expect(final.finishReason).toBe('tool_calls');
    expect(final.toolCalls?.[0]?.name).toBe('get_weather');
    expect(validWeather(final.toolCalls![0]!.arguments)).toBe(true);
  });

  it.each([
    [{ tool_choice: { type: 'function', function: { name: 'nope' } } }, 'tool_choice.function.name'],
    [{ tool_choice: 'required', tools: undefined }, 'tool_choice'],
    [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.tool_call_id'],
    [{ tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools.0.function.name'],
  ])('a malformed tool request is a 400 naming the field (%j)', async (patch, param) => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemma',
        messages: [{ role: 'user', content: 'x' }],
        tools: [weather],
        ...patch,
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param } });
  });

  it('response_format with tools on offer is a 400 unsupported_tools, not one of them dropped silently', async () => {
    const request = {
      model: 'gemma',
      messages: [{ role: 'user' as const, content: 'x' }],
      tools: [weather],
      response_format: { type: 'json_object' as const },
      max_tokens: 4,
    };
    const refused = await client.chat.completions.create(request).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, code: 'unsupported_tools' });
    expect((refused as Error).message).toMatch(/response_format cannot be combined with tools/);
    // tool_choice none takes the tools off the table: the answer is JSON under the response format.
    const answer = await client.chat.completions.create({ ...request, tool_choice: 'none', max_tokens: 40 });
    expect(answer.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(answer.choices[0]!.message.content?.trimStart().startsWith('{')).toBe(true);
  });
});
