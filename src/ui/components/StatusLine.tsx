import { Text } from 'ink';
import { formatMs, formatRate, formatStats } from '../../chat/format-stats.js';
import type { LiveAnswer } from '../chat-controller.js';
import type { TurnStats } from '../../chat/stream-turn.js';
import { useTheme } from '../theme.js';

/** Time to first token and tokens/s: live while an answer streams, then the last answer's figures. */
export function StatusLine({
  live,
  lastStats,
}: {
  live: LiveAnswer | undefined;
  lastStats: TurnStats | undefined;
}) {
  const theme = useTheme();
  let text: string;
  if (live) {
    text =
      live.ttftMs === undefined
        ? 'waiting for the first token · Ctrl-C stops'
        : `generating · ${live.tokens} tokens · TTFT ${formatMs(live.ttftMs)} · ${formatRate(live.tokensPerSecond)} · Ctrl-C stops`;
  } else {
    text = lastStats ? formatStats(lastStats) : 'ready · /help for commands';
  }
  return <Text dimColor={theme.dim}>{text}</Text>;
}
