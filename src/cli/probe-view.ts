import type { LlamaCppReadyConfig, VllmReadyConfig } from '../core/ready-config.js';
import type { CheckResult, ProbeReport } from '../probe/types.js';

/**
 * The human view of a probe report: a table of checks (✓/✗, value, reason, hint), then the verdict and the
 * runner config. Plain text with optional ANSI colour; `provision` reuses it to show why it chose a runtime.
 */

export interface ProbeViewOptions {
  color: boolean;
}

const ANSI = {
  reset: '\u001b[0m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
};

type Style = (text: string) => string;

function styles(color: boolean): Record<'bold' | 'dim' | 'red' | 'green' | 'yellow', Style> {
  const wrap =
    (code: string): Style =>
    (text) =>
      color ? `${code}${text}${ANSI.reset}` : text;
  return {
    bold: wrap(ANSI.bold),
    dim: wrap(ANSI.dim),
    red: wrap(ANSI.red),
    green: wrap(ANSI.green),
    yellow: wrap(ANSI.yellow),
  };
}

/** Colour only on a terminal, never when NO_COLOR is set (https://no-color.org) or TERM is dumb. */
export function shouldUseColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const RUNTIME_LABEL: Record<'vllm' | 'llama-cpp', string> = { vllm: 'vLLM', 'llama-cpp': 'llama.cpp' };

export function formatProbeReport(report: ProbeReport, options: ProbeViewOptions): string {
  const s = styles(options.color);
  const nameWidth = Math.max(...report.checks.map((check) => check.name.length), 5);
  const forWidth = 9;
  const indent = ' '.repeat(4 + nameWidth + 2 + forWidth + 2);
  const lines: string[] = [];
  lines.push(
    `${s.bold('atomr-infer probe')}  model ${report.model}  runtime ${report.requestedRuntime}  deployment ${report.deployment}`,
  );
  lines.push('');
  lines.push(s.dim(`    ${'check'.padEnd(nameWidth)}  ${'for'.padEnd(forWidth)}  value`));
  for (const check of report.checks) lines.push(...formatCheck(check, nameWidth, forWidth, indent, s));
  lines.push('');
  lines.push(...formatVerdict(report, s));
  return `${lines.join('\n')}\n`;
}

function formatCheck(
  check: CheckResult,
  nameWidth: number,
  forWidth: number,
  indent: string,
  s: ReturnType<typeof styles>,
): string[] {
  const mark = check.ok ? s.green('✓') : s.red('✗');
  const scope = check.runtime ? RUNTIME_LABEL[check.runtime] : '';
  const lines = [
    `  ${mark} ${check.name.padEnd(nameWidth)}  ${s.dim(scope.padEnd(forWidth))}  ${check.value}`,
  ];
  if (check.reason) lines.push(`${indent}${s.dim(check.reason)}`);
  if (check.hint && !check.ok) lines.push(`${indent}${s.yellow(`→ ${check.hint}`)}`);
  return lines;
}

function formatVerdict(report: ProbeReport, s: ReturnType<typeof styles>): string[] {
  const lines: string[] = [];
  if (report.status === 'ready' && report.runtime) {
    lines.push(
      `${s.bold('Verdict:')} ${s.green('ready')} — ${RUNTIME_LABEL[report.runtime]} serves ${report.model}`,
    );
  } else {
    lines.push(`${s.bold('Verdict:')} ${s.red('skipped')} — ${report.model} cannot run here`);
  }
  if (report.reason) lines.push(`  ${report.reason}`);
  if (report.hint) lines.push(`  ${s.yellow(`→ ${report.hint}`)}`);
  if (report.config) lines.push(`  ${s.dim('config:')} ${formatConfig(report.config)}`);
  if (report.selectedGpu && report.selectedGpu.uuid && report.config?.runtime === 'vllm') {
    lines.push(
      `  ${s.dim('gpu:')} ${report.selectedGpu.name} (GPU ${report.selectedGpu.index}, ${report.selectedGpu.uuid})`,
    );
  }
  for (const note of report.notes ?? []) lines.push(`  ${s.dim(`note: ${note}`)}`);
  return lines;
}

function formatConfig(config: VllmReadyConfig | LlamaCppReadyConfig): string {
  const entries = Object.entries(config).filter(([key]) => key !== 'runtime' && key !== 'model');
  return entries.map(([key, value]) => `${key}=${String(value)}`).join(' ');
}
