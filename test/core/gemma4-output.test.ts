import { describe, expect, it } from 'vitest';
import {
  Gemma4OutputParser,
  gemmaArgumentsToJson,
  parseGemma4Output,
  type Gemma4Event,
} from '../../src/core/gemma4-output.js';

/**
 * Gemma 4's raw output → answer, thought and tool calls, as a client of serve or chat would see them: the formats
 * from Google's chat template (and vLLM's gemma4 parsers), streamed in any chunking.
 */
const Q = '<|"|>';

function streamed(text: string, sizes: number[]): Gemma4Event[] {
  const parser = new Gemma4OutputParser();
  const events: Gemma4Event[] = [];
  let at = 0;
  for (let i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length]!;
    events.push(...parser.push(text.slice(at, at + size)));
    at += size;
  }
  events.push(...parser.end());
  return normalise(events);
}

/** Adjacent text/thought events joined, so chunkings can be compared. */
function normalise(events: Gemma4Event[]): Gemma4Event[] {
  const out: Gemma4Event[] = [];
  for (const event of events) {
    const last = out.at(-1);
    if (last && last.type === event.type && event.type !== 'tool_call' && last.type !== 'tool_call') {
      out[out.length - 1] = { type: last.type, text: last.text + event.text };
    } else {
      out.push({ ...event });
    }
  }
  return out;
}

describe('Gemma 4 output', () => {
  it('plain text is the answer, untouched', () => {
    expect(parseGemma4Output('Hello, world.')).toEqual([{ type: 'text', text: 'Hello, world.' }]);
  });

  it('a thought goes apart from the answer, without its channel label', () => {
    expect(parseGemma4Output('<|channel>thought\nLet me think.<channel|>The answer is 4.')).toEqual([
      { type: 'thought', text: 'Let me think.' },
      { type: 'text', text: 'The answer is 4.' },
    ]);
  });

  it('a tool call becomes its name and JSON arguments; <|"|> strings keep quotes, commas and braces', () => {
    const raw = `<|tool_call>call:get_weather{city:${Q}Paris, "the" {city}${Q},days:3,metric:true,extra:null}<tool_call|>`;
    expect(parseGemma4Output(raw)).toEqual([
      {
        type: 'tool_call',
        name: 'get_weather',
        arguments: JSON.stringify({ city: 'Paris, "the" {city}', days: 3, metric: true, extra: null }),
      },
    ]);
  });

  it('several calls in one turn, nested objects and arrays', () => {
    const raw =
      `<|tool_call>call:a{list:[1,2,${Q}x${Q}],obj:{k:${Q}v${Q}}}<tool_call|>` +
      `<|tool_call>call:b.c-d{}<tool_call|>`;
    expect(parseGemma4Output(raw)).toEqual([
      { type: 'tool_call', name: 'a', arguments: '{"list":[1,2,"x"],"obj":{"k":"v"}}' },
      { type: 'tool_call', name: 'b.c-d', arguments: '{}' },
    ]);
  });

  it('a string may contain the closing marker itself', () => {
    const raw = `<|tool_call>call:echo{text:${Q}a <tool_call|> b${Q}}<tool_call|>after`;
    expect(parseGemma4Output(raw)).toEqual([
      { type: 'tool_call', name: 'echo', arguments: '{"text":"a <tool_call|> b"}' },
      { type: 'text', text: 'after' },
    ]);
  });

  it('a call it cannot read stays in the answer as written; an unfinished one is flushed as text', () => {
    const broken = '<|tool_call>call:x{a:}<tool_call|>';
    expect(parseGemma4Output(broken)).toEqual([{ type: 'text', text: broken }]);
    expect(parseGemma4Output(`ok <|tool_call>call:x{a:${Q}unterminated`)).toEqual([
      { type: 'text', text: `ok <|tool_call>call:x{a:${Q}unterminated` },
    ]);
  });

  it('an unfinished thought is still thought; a lone "<" is text', () => {
    expect(parseGemma4Output('<|channel>thought\nhmm')).toEqual([{ type: 'thought', text: 'hmm' }]);
    expect(parseGemma4Output('a < b and <| c')).toEqual([{ type: 'text', text: 'a < b and <| c' }]);
  });

  it('argument syntax: bare words that are not JSON scalars become strings; a non-object is refused', () => {
    expect(gemmaArgumentsToJson('{unit:celsius,n:-1.5e3}')).toBe('{"unit":"celsius","n":-1500}');
    expect(gemmaArgumentsToJson('[1,2]')).toBeUndefined();
    expect(gemmaArgumentsToJson('{a:1')).toBeUndefined();
  });

  it('streams: every chunking gives the same events, markers split anywhere', () => {
    const raw =
      `<|channel>thought\nplan: call it<channel|>Sure. ` +
      `<|tool_call>call:f{q:${Q}x,y${Q}}<tool_call|> done <`;
    const whole = streamed(raw, [raw.length]);
    for (const sizes of [[1], [2], [3], [5, 1, 7], [11, 2]]) {
      expect(streamed(raw, sizes), JSON.stringify(sizes)).toEqual(whole);
    }
    expect(whole).toEqual([
      { type: 'thought', text: 'plan: call it' },
      { type: 'text', text: 'Sure. ' },
      { type: 'tool_call', name: 'f', arguments: '{"q":"x,y"}' },
      { type: 'text', text: ' done <' },
    ]);
  });

  it('fuzz: no input throws, chunking never changes the result, and marker-free text is never lost', () => {
    const pieces = [
      '<|channel>',
      '<channel|>',
      'thought\n',
      '<|tool_call>',
      '<tool_call|>',
      'call:f{',
      '}',
      Q,
      'a',
      ',',
      ':',
      '<',
      '|',
      '>',
      ' ',
      '{',
      '[',
      ']',
      '"',
      '1',
      'x',
    ];
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 400; round++) {
      let raw = '';
      for (let i = random(40); i > 0; i--) raw += pieces[random(pieces.length)]!;
      const whole = streamed(raw, [Math.max(1, raw.length)]);
      expect(streamed(raw, [1 + random(4)]), raw).toEqual(whole);
      if (!raw.includes('<')) {
        expect(whole.map((e) => (e.type === 'tool_call' ? '' : e.text)).join(''), raw).toBe(raw);
      }
    }
  });
});
