import { Text } from 'ink';
import { useTheme } from '../theme.js';

/** The tail of the answer being written; everything before its last line break already sits in history. */
export function LiveAnswer({ text, waiting }: { text: string; waiting: boolean }) {
  const theme = useTheme();
  if (waiting) return <Text dimColor={theme.dim}>…</Text>;
  return <Text>{text}</Text>;
}
