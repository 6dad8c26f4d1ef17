import { Text } from 'ink';
import { useTheme } from '../theme.js';

/** The prompt being typed, with a block cursor (the real one stays hidden while Ink draws). */
export function InputLine({ value, busy }: { value: string; busy: boolean }) {
  const theme = useTheme();
  return (
    <Text>
      <Text bold color={busy ? undefined : theme.user} dimColor={busy && theme.dim}>
        {'› '}
      </Text>
      <Text>{value}</Text>
      <Text inverse> </Text>
    </Text>
  );
}
