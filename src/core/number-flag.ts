import { UsageError } from './errors.js';

/**
 * The one parser for numeric command-line flags (chat, serve, bench, and the shared target flags), and the
 * number shapes environment values use too (src/core/settings.ts). One rule for what a number looks like, one
 * message shape for a bad one: `--flag "value" is not valid: expected <accepted>`, exit 2.
 */

/** What a decimal number looks like in a flag or an environment value (no sign but `+`, no hex, no `Infinity`). */
export const DECIMAL = /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** What an integer looks like: digits, an optional `+` (no exponent, no `0x`, no `1.0`). */
export const INTEGER = /^[+]?\d+$/;

export interface NumberRule {
  flag: string;
  integer: boolean;
  min: number;
  max: number;
  /** Exclusive lower bound (`> min` instead of `>= min`). */
  minExclusive?: boolean;
  /** What the message says is accepted; by default the range ("an integer from 1 to 64"). */
  accepted?: string;
  /** The error's hint; by default `see atomr-infer <command> --help` when the command is named. */
  hint?: string;
}

/** An integer flag from `min` to `max`. */
export function integerRule(flag: string, min: number, max: number): NumberRule {
  return { flag, integer: true, min, max };
}

/** Parses one numeric flag: `undefined` when absent, else the number, or a one-line UsageError naming the flag. */
export function parseNumberFlag(
  rule: NumberRule,
  raw: string | undefined,
  command?: string,
): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const value = (rule.integer ? INTEGER : DECIMAL).test(text) ? Number(text) : Number.NaN;
  const aboveMin = rule.minExclusive ? value > rule.min : value >= rule.min;
  // Safe integers only: `99999999999999999999` must not round to a value inside the range.
  const exact = rule.integer ? Number.isSafeInteger(value) : Number.isFinite(value);
  if (!exact || !aboveMin || value > rule.max) {
    const accepted =
      rule.accepted ?? `${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}`;
    const hint = rule.hint ?? (command === undefined ? undefined : `see \`atomr-infer ${command} --help\``);
    throw new UsageError(
      `${rule.flag} ${JSON.stringify(raw)} is not valid: expected ${accepted}`,
      hint === undefined ? {} : { hint },
    );
  }
  return value;
}
