import { Box, Text } from 'ink';
import { useTheme } from '../theme.js';

/**
 * The tail of the answer being written (everything before its last line break already sits in history), and
 * before it, while the model thinks, the thought in dim text; it folds into one history line when the answer
 * starts.
 */
export function LiveAnswer({ text, thought, waiting }: { text: string; thought: string; waiting: boolean }) {
  const theme = useTheme();
  if (thought !== '' && text === '') {
    return (
      <Box flexDirection="column">
        <Text dimColor={theme.dim}>thinking…</Text>
        <Text dimColor={theme.dim}>{lastLines(thought, 3)}</Text>
      </Box>
    );
  }
  if (waiting) return <Text dimColor={theme.dim}>…</Text>;
  return <Text>{text}</Text>;
}

/** The last few lines of a long thought: the live region stays a few rows tall however long it thinks. */
function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n').slice(-400);
}
