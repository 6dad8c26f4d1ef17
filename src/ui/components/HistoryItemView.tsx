import { Box, Text } from 'ink';
import type { HistoryItem } from '../history.js';
import { useTheme } from '../theme.js';
import { Header } from './Header.js';
import { HelpText } from './HelpText.js';

export const INTERRUPTED_MARK = '[interrupted]';

/** One finished piece of the transcript, rendered once inside `<Static>`. */
export function HistoryItemView({ item }: { item: HistoryItem }) {
  const theme = useTheme();
  switch (item.kind) {
    case 'header':
      return <Header description={item.description} />;
    case 'help':
      return <HelpText />;
    case 'user':
      return (
        <Text>
          <Text bold color={theme.user}>
            {'› '}
          </Text>
          <Text bold>{item.text}</Text>
        </Text>
      );
    case 'notice':
      if (item.tone === 'dim') return <Text dimColor={theme.dim}>{item.text}</Text>;
      return (
        <Text color={item.tone === 'error' ? theme.error : item.tone === 'warn' ? theme.warn : theme.accent}>
          {item.tone === 'error' ? `error: ${item.text}` : item.text}
        </Text>
      );
    case 'answer':
      if (!item.final) return <Text>{item.text}</Text>;
      return (
        <Box flexDirection="column" marginBottom={1}>
          {item.text !== '' || item.interrupted ? (
            <Text>
              {item.text}
              {item.interrupted ? (
                <Text color={theme.warn}>
                  {item.text === '' ? '' : ' '}
                  {INTERRUPTED_MARK}
                </Text>
              ) : null}
            </Text>
          ) : null}
        </Box>
      );
  }
}
