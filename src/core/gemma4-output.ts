/**
 * Gemma 4's raw output, split into what a client sees: the answer, the thought, and tool calls. Gemma 4 writes
 *
 *   <|channel>thought\n…<channel|>                       a thought (thinking on), before the answer
 *   <|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>   a tool call; strings are delimited by <|"|>
 *
 * (Google's chat template; vLLM's `gemma4` tool-call and reasoning parsers read the same). The parser is
 * incremental — chunks may split a marker anywhere — and total: no input makes it throw, and nothing is dropped
 * but the markers themselves. A tool call it cannot read stays in the answer as the text the model wrote, and an
 * unfinished block is flushed by end() as what it was (thought text, or the raw call as answer text).
 */

export type Gemma4Event =
  | { type: 'text'; text: string }
  | { type: 'thought'; text: string }
  | { type: 'tool_call'; name: string; arguments: string };

export const THOUGHT_OPEN = '<|channel>';
export const THOUGHT_CLOSE = '<channel|>';
export const TOOL_CALL_OPEN = '<|tool_call>';
export const TOOL_CALL_CLOSE = '<tool_call|>';
export const STRING_DELIMITER = '<|"|>';
/** The channel name after THOUGHT_OPEN: structure, not thought text. */
const THOUGHT_LABEL = 'thought\n';

type Mode = 'text' | 'thought-label' | 'thought' | 'tool';

export class Gemma4OutputParser {
  private mode: Mode = 'text';
  private buffer = '';

  /** Feeds one chunk of raw output; returns the events it completes (text is emitted as soon as it is safe). */
  push(chunk: string): Gemma4Event[] {
    this.buffer += chunk;
    const events: Gemma4Event[] = [];
    for (;;) {
      const before = `${this.mode}:${this.buffer.length}`;
      this.step(events);
      if (`${this.mode}:${this.buffer.length}` === before) return merge(events);
    }
  }

  /** The output ended: whatever is still held is flushed as what it was. */
  end(): Gemma4Event[] {
    const events: Gemma4Event[] = [];
    const rest = this.buffer;
    this.buffer = '';
    if (rest !== '') {
      if (this.mode === 'text') events.push({ type: 'text', text: rest });
      else if (this.mode === 'tool') events.push({ type: 'text', text: TOOL_CALL_OPEN + rest });
      else if (!(this.mode === 'thought-label' && THOUGHT_LABEL.startsWith(rest))) {
        events.push({ type: 'thought', text: rest });
      }
    }
    this.mode = 'text';
    return merge(events);
  }

  private step(events: Gemma4Event[]): void {
    switch (this.mode) {
      case 'text': {
        const open = firstOf(this.buffer, [THOUGHT_OPEN, TOOL_CALL_OPEN]);
        if (open) {
          emit(events, 'text', this.buffer.slice(0, open.index));
          this.buffer = this.buffer.slice(open.index + open.marker.length);
          this.mode = open.marker === THOUGHT_OPEN ? 'thought-label' : 'tool';
          return;
        }
        const safe = this.buffer.length - heldBack(this.buffer, [THOUGHT_OPEN, TOOL_CALL_OPEN]);
        emit(events, 'text', this.buffer.slice(0, safe));
        this.buffer = this.buffer.slice(safe);
        return;
      }
      case 'thought-label': {
        if (this.buffer.startsWith(THOUGHT_LABEL)) {
          this.buffer = this.buffer.slice(THOUGHT_LABEL.length);
          this.mode = 'thought';
        } else if (!THOUGHT_LABEL.startsWith(this.buffer)) {
          this.mode = 'thought';
        }
        return;
      }
      case 'thought': {
        const close = this.buffer.indexOf(THOUGHT_CLOSE);
        if (close >= 0) {
          emit(events, 'thought', this.buffer.slice(0, close));
          this.buffer = this.buffer.slice(close + THOUGHT_CLOSE.length);
          this.mode = 'text';
          return;
        }
        const safe = this.buffer.length - heldBack(this.buffer, [THOUGHT_CLOSE]);
        emit(events, 'thought', this.buffer.slice(0, safe));
        this.buffer = this.buffer.slice(safe);
        return;
      }
      case 'tool': {
        const close = toolCallEnd(this.buffer);
        if (close < 0) return;
        const raw = this.buffer.slice(0, close);
        this.buffer = this.buffer.slice(close + TOOL_CALL_CLOSE.length);
        this.mode = 'text';
        const call = parseToolCall(raw);
        if (call) events.push({ type: 'tool_call', ...call });
        else emit(events, 'text', TOOL_CALL_OPEN + raw + TOOL_CALL_CLOSE);
        return;
      }
    }
  }
}

/** Parses a whole output at once. */
export function parseGemma4Output(text: string): Gemma4Event[] {
  const parser = new Gemma4OutputParser();
  return merge([...parser.push(text), ...parser.end()]);
}

/** `call:NAME{…}` → the name and its arguments as a JSON object string; undefined when it is not one. */
export function parseToolCall(raw: string): { name: string; arguments: string } | undefined {
  const match = /^\s*call:([\w.-]+)\s*(\{[\s\S]*\})\s*$/.exec(raw);
  if (!match) return undefined;
  const args = gemmaArgumentsToJson(match[2]!);
  return args === undefined ? undefined : { name: match[1]!, arguments: args };
}

/**
 * Gemma 4's argument syntax → JSON: unquoted keys are quoted, `<|"|>…<|"|>` strings become JSON strings (quotes,
 * commas and braces inside them are text), bare words stay numbers/booleans/null when they are, else strings.
 * Undefined when the result is not a JSON object.
 */
export function gemmaArgumentsToJson(body: string): string | undefined {
  let json = '';
  let i = 0;
  while (i < body.length) {
    const char = body[i]!;
    if (body.startsWith(STRING_DELIMITER, i)) {
      const end = body.indexOf(STRING_DELIMITER, i + STRING_DELIMITER.length);
      if (end < 0) return undefined;
      json += JSON.stringify(body.slice(i + STRING_DELIMITER.length, end));
      i = end + STRING_DELIMITER.length;
    } else if ('{}[],:'.includes(char)) {
      json += char;
      i++;
    } else if (/\s/.test(char)) {
      i++;
    } else if (char === '"') {
      // A JSON string the model wrote with plain quotes.
      const end = jsonStringEnd(body, i);
      if (end < 0) return undefined;
      json += body.slice(i, end + 1);
      i = end + 1;
    } else {
      let end = i;
      while (
        end < body.length &&
        !/[\s{}[\],:]/.test(body[end]!) &&
        !body.startsWith(STRING_DELIMITER, end)
      ) {
        end++;
      }
      const word = body.slice(i, end);
      json += isJsonScalar(word) ? word : JSON.stringify(word);
      i = end;
    }
  }
  try {
    const value: unknown = JSON.parse(json);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function isJsonScalar(word: string): boolean {
  return /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)$/.test(word);
}

function jsonStringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/** Where the tool call's closing marker starts, skipping `<|"|>` strings (which may contain anything); -1: not yet. */
function toolCallEnd(text: string): number {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith(STRING_DELIMITER, i)) {
      inString = !inString;
      i += STRING_DELIMITER.length - 1;
    } else if (!inString && text.startsWith(TOOL_CALL_CLOSE, i)) {
      return i;
    }
  }
  return -1;
}

function firstOf(text: string, markers: string[]): { index: number; marker: string } | undefined {
  let best: { index: number; marker: string } | undefined;
  for (const marker of markers) {
    const index = text.indexOf(marker);
    if (index >= 0 && (best === undefined || index < best.index)) best = { index, marker };
  }
  return best;
}

/** How many trailing characters could be the start of a marker (held until the next chunk says). */
function heldBack(text: string, markers: string[]): number {
  let held = 0;
  for (const marker of markers) {
    for (let length = Math.min(marker.length - 1, text.length); length > held; length--) {
      if (text.endsWith(marker.slice(0, length))) {
        held = length;
        break;
      }
    }
  }
  return held;
}

function emit(events: Gemma4Event[], type: 'text' | 'thought', text: string): void {
  if (text !== '') events.push({ type, text });
}

/** Adjacent text (or thought) events become one. */
function merge(events: Gemma4Event[]): Gemma4Event[] {
  const merged: Gemma4Event[] = [];
  for (const event of events) {
    const last = merged.at(-1);
    if (last && event.type !== 'tool_call' && last.type === event.type) {
      last.text += event.text;
    } else {
      merged.push(event.type === 'tool_call' ? event : { ...event });
    }
  }
  return merged;
}
