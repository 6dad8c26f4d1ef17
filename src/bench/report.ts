import { randomUUID } from 'node:crypto';
import { StateFileError, appendWhole } from '../core/state-files.js';
import type { LevelResult } from './measure.js';

/** What one `atomr-infer bench` run produced: printed as a table, appended as JSON lines. */
export interface BenchRun {
  runId: string;
  timestamp: string;
  model: string;
  runtime: string;
  device: string;
  maxTokens: number;
  levels: LevelResult[];
}

export function newRunId(): string {
  return randomUUID().slice(0, 8);
}

/** One JSON line per concurrency level, each carrying the run's context, so `jq` needs no nesting. */
export function resultLines(run: BenchRun): string {
  return run.levels
    .map((level) =>
      JSON.stringify({
        runId: run.runId,
        timestamp: run.timestamp,
        model: run.model,
        runtime: run.runtime,
        device: run.device,
        maxTokens: run.maxTokens,
        ...level,
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Appends the run's lines whole or not at all; a StateFileError (exit 2) when the file cannot be written. */
export async function appendResults(file: string, run: BenchRun): Promise<void> {
  try {
    await appendWhole(file, resultLines(run), { what: 'the bench results file' });
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error;
    throw error.withPrefix('the run was printed but not saved: ');
  }
}

const COLUMNS = [
  ['concurrency', (l: LevelResult) => String(l.concurrency)],
  ['requests', (l: LevelResult) => String(l.requests)],
  ['errors', (l: LevelResult) => String(l.errors)],
  ['TTFT p50 ms', (l: LevelResult) => l.ttftMs.p50.toFixed(1)],
  ['TTFT p95 ms', (l: LevelResult) => l.ttftMs.p95.toFixed(1)],
  ['tok/s per stream', (l: LevelResult) => l.decodeTokPerSec.p50.toFixed(1)],
  ['tok/s aggregate', (l: LevelResult) => l.aggregateTokPerSec.toFixed(1)],
] as const;

export function formatTable(run: BenchRun): string {
  const header = COLUMNS.map(([name]) => name);
  const rows = run.levels.map((level) => COLUMNS.map(([, cell]) => cell(level)));
  const widths = header.map((name, i) => Math.max(name.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const errors = run.levels
    .filter((level) => level.firstError !== null)
    .map((level) => `concurrency ${level.concurrency}: ${level.errors} failed, first: ${level.firstError}`);
  return [
    `${run.model} · ${run.runtime} · ${run.device} · max ${run.maxTokens} tokens`,
    line(header),
    ...rows.map(line),
    ...errors,
  ]
    .map((text) => `${text}\n`)
    .join('');
}
