/**
 * Secrets (HF tokens, API keys) must never reach output, logs, JSON or errors. Every place that turns
 * foreign text (stderr of a child, an HTTP error body) into a message passes it through `redactSecrets`.
 */

const SECRET_ENV_VARS = [
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'ATOMR_INFER_API_KEY',
  'ATOMR_INFER_REMOTE_API_KEY',
  'OPENAI_API_KEY',
] as const;

/** Hugging Face user/org tokens: `hf_` followed by 30+ alphanumerics. */
const HF_TOKEN_PATTERN = /\bhf_[A-Za-z0-9]{20,}\b/g;

const extraSecrets = new Set<string>();

/** Registers a secret read from somewhere other than the environment (a token file, a --api-key flag). */
export function registerSecret(value: string | undefined): void {
  const trimmed = value?.trim();
  if (trimmed && trimmed.length >= 4) extraSecrets.add(trimmed);
}

export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let result = text.replace(HF_TOKEN_PATTERN, 'hf_***');
  const secrets = new Set(extraSecrets);
  for (const name of SECRET_ENV_VARS) {
    const value = env[name]?.trim();
    if (value && value.length >= 4) secrets.add(value);
  }
  // Longest first: a secret that contains another must be hidden whole, not leave its tail behind.
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) result = result.split(secret).join('***');
  return result;
}
