import { redactSecrets } from '../core/secrets.js';

/**
 * Where `serve` logs go: fastify's pino logger, one JSON object a line on stderr (for log collectors), or a
 * compact human line when stderr is a terminal. Every line passes through redactSecrets, so an API key can
 * never reach the log whatever a message or a request URL contains.
 */

export type LogFormat = 'json' | 'pretty';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LogSink {
  write(line: string): void;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields pino adds that the pretty line shows differently or not at all. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId']);

export function createLogStream(format: LogFormat, sink: LogSink = process.stderr): LogSink {
  return {
    write(line: string): void {
      const safe = redactSecrets(line);
      sink.write(format === 'json' ? safe : prettyLine(safe));
    },
  };
}

function prettyLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '';
  const level = LEVEL_NAMES[Number(entry.level)] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !HIDDEN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const request = entry.reqId === undefined ? '' : ` [${String(entry.reqId)}]`;
  return `${time} ${level.padEnd(5)}${request} ${String(entry.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}
