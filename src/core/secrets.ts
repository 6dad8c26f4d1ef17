/**
 * Secrets (HF tokens, API keys) must never reach output, logs, JSON or errors. Every place that turns
 * foreign text (stderr of a child, an HTTP error body) into a message passes it through `redactSecrets`.
 *
 * Rule for short values: redaction replaces every occurrence of a secret's text, so a secret that is also an
 * ordinary word ("short", "true", "model") would be cut out of unrelated text — and the `***` left where the word
 * was names the secret by elimination (`ATOMR_INFER_API_KEY=short` printed "is too ***"). Values shorter than
 * MIN_REDACTED_LENGTH are therefore never searched for. They are kept out of messages at the source instead: no
 * message quotes a secret value (validation errors name the variable or flag, never its value), serve refuses
 * API keys shorter than 8 characters, and Hugging Face tokens (37 characters) are matched by shape as well.
 */

const SECRET_ENV_VARS = [
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'ATOMR_INFER_API_KEY',
  'ATOMR_INFER_REMOTE_API_KEY',
  'OPENAI_API_KEY',
] as const;

/** Secrets shorter than this are not searched for in text (see above): the same floor as serve's API keys. */
export const MIN_REDACTED_LENGTH = 8;

/** Hugging Face user/org tokens: `hf_` followed by 30+ alphanumerics. */
const HF_TOKEN_PATTERN = /\bhf_[A-Za-z0-9]{20,}\b/g;

const extraSecrets = new Set<string>();

function redactable(value: string | undefined): value is string {
  return value !== undefined && value.length >= MIN_REDACTED_LENGTH;
}

/** Registers a secret read from somewhere other than the environment (a token file, a --api-key flag). */
export function registerSecret(value: string | undefined): void {
  const trimmed = value?.trim();
  if (redactable(trimmed)) extraSecrets.add(trimmed);
}

export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let result = text.replace(HF_TOKEN_PATTERN, 'hf_***');
  const secrets = new Set(extraSecrets);
  for (const name of SECRET_ENV_VARS) {
    const value = env[name]?.trim();
    if (redactable(value)) secrets.add(value);
  }
  // Longest first: a secret that contains another must be hidden whole, not leave its tail behind.
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) result = result.split(secret).join('***');
  return result;
}
