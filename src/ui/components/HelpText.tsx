import { Box, Text } from 'ink';
import { KEY_HELP, SLASH_COMMANDS } from '../history.js';
import { useTheme } from '../theme.js';

export function HelpText() {
  const theme = useTheme();
  const rows = [...SLASH_COMMANDS, ...KEY_HELP];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return (
    <Box flexDirection="column" marginBottom={1}>
      {rows.map(([name, meaning]) => (
        <Text key={name}>
          <Text color={theme.accent}>{name.padEnd(width)}</Text>
          <Text>{meaning}</Text>
        </Text>
      ))}
    </Box>
  );
}
