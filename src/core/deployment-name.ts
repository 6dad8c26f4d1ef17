/**
 * What a deployment name may be, in one zod-free module: settings (ATOMR_INFER_GEMMA_DEPLOYMENT), the registry
 * and the CLI all check names against it. Names index records in deployments.json and appear in shell commands,
 * so they are plain identifiers: never `__proto__`-style keys, spaces, slashes or quotes.
 */

/** Letters, digits, `.`, `_`, `-`; 1–63 characters, starting with a letter or digit. Case-sensitive. */
export const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const DEPLOYMENT_NAME_ACCEPTED =
  'a name of letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)';

export function isValidDeploymentName(name: string): boolean {
  return DEPLOYMENT_NAME.test(name);
}
