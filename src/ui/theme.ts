import { createContext, useContext } from 'react';

/**
 * Colours of the chat UI. NO_COLOR (https://no-color.org: set and non-empty) turns every colour and dim
 * attribute off; chalk, which Ink uses, does not read NO_COLOR itself.
 */
export interface Theme {
  accent: string | undefined;
  user: string | undefined;
  warn: string | undefined;
  error: string | undefined;
  /** Secondary text (status line, stats). */
  dim: boolean;
}

export const COLOR_THEME: Theme = { accent: 'cyan', user: 'green', warn: 'yellow', error: 'red', dim: true };
export const PLAIN_THEME: Theme = {
  accent: undefined,
  user: undefined,
  warn: undefined,
  error: undefined,
  dim: false,
};

export function noColorRequested(env: NodeJS.ProcessEnv): boolean {
  const value = env.NO_COLOR;
  return value !== undefined && value !== '';
}

export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return noColorRequested(env) ? PLAIN_THEME : COLOR_THEME;
}

export const ThemeContext = createContext<Theme>(COLOR_THEME);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}
