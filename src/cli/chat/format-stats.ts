import type { TurnStats } from './stream-turn.js';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 10
    ? `${ms.toFixed(1)} ms`
    : ms < 10_000
      ? `${integer.format(ms)} ms`
      : `${(ms / 1000).toFixed(1)} s`;
}

export function formatRate(tokensPerSecond: number | undefined): string {
  if (tokensPerSecond === undefined) return '– tok/s';
  return `${tokensPerSecond < 10 ? tokensPerSecond.toFixed(1) : integer.format(tokensPerSecond)} tok/s`;
}

const FINISH_LABELS: Record<TurnStats['finishReason'], string> = {
  stop: 'done',
  length: 'max tokens reached',
  abort: 'interrupted',
  error: 'failed',
};

/** "TTFT 12 ms · 2,140 tok/s · 256 tokens · done": one line for the status bar and stderr. */
export function formatStats(stats: TurnStats): string {
  const tokens = `${integer.format(stats.outputTokens)} token${stats.outputTokens === 1 ? '' : 's'}`;
  return [
    `TTFT ${formatMs(stats.ttftMs)}`,
    formatRate(stats.tokensPerSecond),
    tokens,
    FINISH_LABELS[stats.finishReason],
  ].join(' · ');
}
