import { describe, expect, it } from 'vitest';
import { SseParser, readSseEvents } from '../../../src/runners/remote/sse.js';

function parseAll(pieces: string[]): { event: string; data: string }[] {
  const parser = new SseParser();
  return pieces.flatMap((piece) => parser.push(piece)).map(({ event, data }) => ({ event, data }));
}

describe('SSE parser', () => {
  it('splits events on blank lines with LF, CRLF and CR line ends', () => {
    expect(parseAll(['data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n'])).toEqual(
      ['a', 'b', 'c', 'd'].map((data) => ({ event: 'message', data })),
    );
  });

  it('keeps a CRLF split across two network chunks as one line break', () => {
    expect(parseAll(['data: one\r', '\n\r', '\ndata: two\r\n', '\r\n'])).toEqual([
      { event: 'message', data: 'one' },
      { event: 'message', data: 'two' },
    ]);
  });

  it('joins multi-line data, ignores comments, strips one leading space, reads event types', () => {
    expect(parseAll([': keep-alive\n', 'event: update\ndata:x\ndata:  y\n\n'])).toEqual([
      { event: 'update', data: 'x\n y' },
    ]);
  });

  it('handles a field split mid-line across chunks and a leading byte-order mark', () => {
    expect(parseAll(['\uFEFFda', 'ta: {"a":', '1}\n', '\n'])).toEqual([
      { event: 'message', data: '{"a":1}' },
    ]);
  });

  it('drops an event that never got its closing blank line', async () => {
    const encoder = new TextEncoder();
    async function* body() {
      yield encoder.encode('data: done\n\ndata: trunc');
    }
    const events = [];
    for await (const event of readSseEvents(body())) events.push(event.data);
    expect(events).toEqual(['done']);
  });

  it('decodes UTF-8 characters split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo 🌍\n\n');
    async function* body() {
      for (let i = 0; i < bytes.length; i++) yield bytes.slice(i, i + 1);
    }
    const events = [];
    for await (const event of readSseEvents(body())) events.push(event.data);
    expect(events).toEqual(['héllo 🌍']);
  });
});
