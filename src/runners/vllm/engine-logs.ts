import type { Readable } from 'node:stream';
import { redactSecrets } from '../../core/secrets.js';
import type { EngineLogs } from './config.js';

const TAIL_LINES = 40;

/**
 * Everything the Python process prints (its stdout and stderr: vLLM's logs, tracebacks, CUDA errors). Lines are
 * forwarded, redacted, to our stderr — never to our stdout, which belongs to the answer and to `--json` — and the
 * last few are kept to explain a crash.
 */
export class EngineLogSink {
  private readonly tail: string[] = [];
  private readonly partial = new Map<Readable, string>();

  constructor(private readonly mode: EngineLogs) {}

  attach(stream: Readable | null): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.push(stream, chunk));
    stream.on('end', () => {
      const rest = this.partial.get(stream);
      if (rest) this.line(rest);
      this.partial.delete(stream);
    });
  }

  /** The last non-empty lines, redacted, newest last. */
  lastLines(count: number): string[] {
    return this.tail.slice(-count);
  }

  private push(stream: Readable, chunk: string): void {
    const text = (this.partial.get(stream) ?? '') + chunk;
    const lines = text.split(/\r?\n/);
    this.partial.set(stream, lines.pop() ?? '');
    for (const line of lines) this.line(line);
  }

  private line(raw: string): void {
    // tqdm progress bars redraw with \r: keep the final state only.
    const line = redactSecrets(raw.slice(raw.lastIndexOf('\r') + 1));
    if (line.trim() === '') return;
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    if (this.mode === 'stderr') process.stderr.write(`${line}\n`);
  }
}
