import { Box, Text } from 'ink';
import type { RunnerDescription } from '../../core/model-runner.js';
import { useTheme } from '../theme.js';

/** Model, runtime and device, written once at the top of the session. */
export function Header({ description }: { description: RunnerDescription }) {
  const theme = useTheme();
  const details = [
    description.runtime,
    description.device,
    ...(description.contextSize ? [`ctx ${description.contextSize}`] : []),
    ...(description.mode === 'completion' ? ['completion mode'] : []),
  ];
  return (
    <Box flexDirection="column" marginBottom={1}>
      <Text>
        <Text bold color={theme.accent}>
          atomr-infer chat
        </Text>
        <Text> · </Text>
        <Text bold>{description.model}</Text>
      </Text>
      <Text dimColor={theme.dim}>{details.join(' · ')}</Text>
      <Text dimColor={theme.dim}>/help for commands · Ctrl-C stops an answer · Ctrl-D leaves</Text>
    </Box>
  );
}
