/**
 * A server-sent events parser (WHATWG HTML §9.2 "event stream interpretation"), small enough to read in one
 * sitting: lines end in CRLF, LF or CR (a CR at the end of one network chunk may pair with an LF at the start
 * of the next), `:` starts a comment, `data` lines accumulate, a blank line dispatches. No dependency ships one
 * in node_modules, and OpenAI-compatible servers differ in exactly these details (vLLM sends `data:` without a
 * space, some proxies send CRLF, keep-alive comments are common).
 */

export interface SseEvent {
  /** `message` unless an `event:` field said otherwise. */
  event: string;
  data: string;
  id: string | undefined;
}

export class SseParser {
  private buffer = '';
  /** The previous chunk ended in CR: an LF at the start of the next one belongs to the same line break. */
  private pendingCr = false;
  private firstLine = true;
  private data: string[] = [];
  private eventType = '';
  private lastEventId: string | undefined;

  /** Feeds decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    let input = text;
    if (this.pendingCr && input.startsWith('\n')) input = input.slice(1);
    this.pendingCr = false;
    this.buffer += input;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const char = this.buffer[i];
      if (char !== '\n' && char !== '\r') continue;
      this.line(this.buffer.slice(start, i), events);
      if (char === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer[i + 1] === '\n') i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** End of stream: an event without its closing blank line is discarded, as the spec says. */
  end(): void {
    this.buffer = '';
    this.data = [];
    this.eventType = '';
  }

  private line(raw: string, events: SseEvent[]): void {
    let line = raw;
    if (this.firstLine) {
      this.firstLine = false;
      if (line.startsWith('\uFEFF')) line = line.slice(1);
    }
    if (line === '') {
      if (this.data.length > 0) {
        events.push({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId });
      }
      this.data = [];
      this.eventType = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      default:
        // `retry` and unknown fields: reconnection is the caller's business (we retry whole requests).
        break;
    }
  }
}

/** Parses a byte stream (a fetch body) into events as they arrive. */
export async function* readSseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  for await (const bytes of body) {
    yield* parser.push(decoder.decode(bytes, { stream: true }));
  }
  yield* parser.push(decoder.decode());
  parser.end();
}
