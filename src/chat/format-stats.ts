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
  tool_calls: 'called a tool',
};

/**
 * What to tell the user when an answer stopped because the context is full (see the llama.cpp runner's
 * context-budget.ts): more max tokens would not help; a larger context or a fresh conversation would.
 */
export function contextFullNote(contextSize: number | undefined): string {
  const size = contextSize === undefined ? 'the context' : `the ${integer.format(contextSize)}-token context`;
  return `the answer stopped because ${size} is full (prompt + answer); a larger --ctx makes room`;
}

/** "TTFT 12 ms · 2,140 tok/s · 256 tokens · done": one line for the status bar and stderr. */
export function formatStats(stats: TurnStats): string {
  const finish = stats.contextFull ? 'context full' : FINISH_LABELS[stats.finishReason];
  const tokens = `${integer.format(stats.outputTokens)} token${stats.outputTokens === 1 ? '' : 's'}`;
  return [`TTFT ${formatMs(stats.ttftMs)}`, formatRate(stats.tokensPerSecond), tokens, finish].join(' · ');
}
