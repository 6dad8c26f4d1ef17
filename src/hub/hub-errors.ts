import { ModelError } from '../core/errors.js';
import type { HfTokenSource } from '../core/paths.js';
import { redactSecrets } from '../core/secrets.js';

/**
 * Turns Hub HTTP failures into one-line ModelErrors (exit 4) that say what is wrong and what to do.
 * The Hub tells why in `X-Error-Code` (GatedRepo, RepoNotFound, RevisionNotFound, EntryNotFound); an
 * unauthenticated request for a private or missing repo also gets 401, so 401 is worded to cover both.
 */

export interface HubErrorContext {
  endpoint: string;
  repo: string;
  revision: string;
  /** The file being fetched; absent for repo-level calls (model info). */
  file?: string;
  /** Where the token came from; `undefined` when none was sent. */
  tokenSource: HfTokenSource | undefined;
}

const TOKEN_HELP =
  'create a read token at https://huggingface.co/settings/tokens and export HF_TOKEN=<token>';

export function modelPage(endpoint: string, repo: string): string {
  return `${endpoint}/${repo}`;
}

function tokenWords(source: HfTokenSource | undefined): string {
  if (source === undefined) return 'no Hugging Face token is set';
  return source === 'token-file' ? 'the token in the Hugging Face token file' : `the token in ${source}`;
}

function what(context: HubErrorContext): string {
  return context.file ? `${context.repo}/${context.file}` : context.repo;
}

export function hubStatusError(
  status: number,
  errorCode: string | null,
  context: HubErrorContext,
): ModelError {
  const page = modelPage(context.endpoint, context.repo);
  if (status === 401 || status === 403) {
    if (errorCode === 'RepoNotFound') return repoNotFound(context, true);
    const gated = errorCode === 'GatedRepo' || status === 403;
    const tokenText = tokenWords(context.tokenSource);
    const message = gated
      ? `${context.repo} is gated and ${context.tokenSource ? `${tokenText} lacks access to it` : `${tokenText}`} (HTTP ${status})`
      : `${context.repo} needs authentication and ${context.tokenSource ? `${tokenText} was refused` : tokenText} (HTTP ${status})`;
    const hint = context.tokenSource
      ? `accept the license at ${page} with the account that owns the token, or ${TOKEN_HELP} from an account that has access`
      : `accept the license at ${page}, then ${TOKEN_HELP}`;
    return new ModelError(message, { code: gated ? 'hub-gated' : 'hub-unauthorized', hint });
  }
  if (status === 404) {
    if (errorCode === 'RevisionNotFound') {
      return new ModelError(
        `revision "${context.revision}" not found in ${context.repo} on ${context.endpoint}`,
        {
          code: 'hub-revision-not-found',
          hint: `check --revision; branches, tags and commits are listed at ${page}/tree/main`,
        },
      );
    }
    if (errorCode === 'EntryNotFound' || (context.file && errorCode !== 'RepoNotFound')) {
      return new ModelError(
        `file ${context.file ?? '(unknown)'} not found in ${context.repo} at revision ${context.revision}`,
        { code: 'hub-file-not-found', hint: `see the files at ${page}/tree/${context.revision}` },
      );
    }
    return repoNotFound(context, false);
  }
  return new ModelError(`the Hub answered HTTP ${status} for ${what(context)} (${context.endpoint})`, {
    code: 'hub-http-error',
    hint: 'try again later; the Hub status is at https://status.huggingface.co',
  });
}

function repoNotFound(context: HubErrorContext, maybePrivate: boolean): ModelError {
  const tail = maybePrivate
    ? context.tokenSource
      ? `, or ${tokenWords(context.tokenSource)} cannot see it`
      : ', or it is private and no Hugging Face token is set'
    : '';
  return new ModelError(`repo ${context.repo} not found on ${context.endpoint}${tail}`, {
    code: 'hub-repo-not-found',
    hint: maybePrivate
      ? `check the name, or ${TOKEN_HELP}`
      : 'check the repo name (and ATOMR_INFER_GEMMA_GGUF / HF_ENDPOINT if set)',
  });
}

/** The Hub could not be reached at all (DNS, refused connection, TLS, timeout) after the retries. */
export function hubUnreachableError(endpoint: string, detail: string, repo: string): ModelError {
  return new ModelError(`cannot reach the Hub at ${endpoint} for ${repo}: ${redactSecrets(detail)}`, {
    code: 'hub-unreachable',
    hint: 'check the network, HF_ENDPOINT and any HTTPS_PROXY/HTTP_PROXY (NO_PROXY); with the weights already cached, HF_HUB_OFFLINE=1 skips the Hub',
  });
}

/** A file whose bytes did not match the Hub's checksum even after a fresh download. */
export function checksumError(repo: string, file: string, expected: string, actual: string): ModelError {
  return new ModelError(
    `${repo}/${file} failed verification: expected ${expected.slice(0, 16)}…, got ${actual.slice(0, 16)}…`,
    {
      code: 'hub-checksum-mismatch',
      hint: 'the download was corrupted in transit or by a proxy; run the command again',
    },
  );
}

/** Which Hub request timed out: model info (HF_HUB_ETAG_TIMEOUT) or a file's bytes (HF_HUB_DOWNLOAD_TIMEOUT). */
export type HubRequestKind = 'metadata' | 'download';

/**
 * The Hub accepted the connection but sent no headers, or stopped sending a body, for a whole timeout on
 * every try. `detail` is the timeout's own message ("<host> did not answer within 10 s").
 */
export function hubTimeoutError(
  endpoint: string,
  what: string,
  detail: string,
  tries: number,
  kind: HubRequestKind,
): ModelError {
  const variable = kind === 'metadata' ? 'HF_HUB_ETAG_TIMEOUT' : 'HF_HUB_DOWNLOAD_TIMEOUT';
  const kept = kind === 'download' ? '; the partial download is kept and the next run resumes it' : '';
  return new ModelError(
    `no answer from the Hub at ${endpoint} for ${what}: ${redactSecrets(detail)} (${tries} ${tries === 1 ? 'try' : 'tries'})`,
    {
      code: 'hub-timeout',
      hint: `check HF_ENDPOINT and the network (proxy, firewall); on a slow link raise ${variable} (seconds)${kept}`,
    },
  );
}

/** The endpoint answered 200 with something that is not the Hub's answer: an HTML page, JSON of another shape. */
export function hubBadResponseError(endpoint: string, what: string, problem: string): ModelError {
  return new ModelError(
    `the Hub at ${endpoint} sent an unusable answer for ${what}: ${redactSecrets(problem)}`,
    {
      code: 'hub-bad-response',
      hint: 'check HF_ENDPOINT: it must be the base URL of a Hugging Face Hub or mirror (default https://huggingface.co); a proxy or captive portal can also answer like this',
    },
  );
}

/** The Hub's rate limit (429 with `RateLimit: "api";r=0;t=N`) resets later than we are willing to wait. */
export function hubRateLimitError(
  endpoint: string,
  what: string,
  resource: string,
  resetSeconds: number,
  hasToken: boolean,
): ModelError {
  return new ModelError(
    `the Hub at ${endpoint} refused ${what}: its "${resource}" rate limit is used up and resets in ${resetSeconds} s (HTTP 429)`,
    {
      code: 'hub-rate-limited',
      hint: hasToken
        ? `run the command again after ${resetSeconds} s; nothing downloaded so far is lost`
        : `run the command again after ${resetSeconds} s; requests with a token (HF_TOKEN, https://huggingface.co/settings/tokens) get a higher limit`,
    },
  );
}

/**
 * A 401/403/404 that did not come from the Hub: from the CDN an LFS redirect led to, or from a proxy or firewall
 * answering for the Hub's URL (no X-Error-Code). Not a gated repo and not a token problem: saying "gated" would
 * send the user to a license page that cannot help.
 */
export function foreignRefusalError(
  status: number,
  host: string,
  context: HubErrorContext,
  viaRedirect: boolean,
): ModelError {
  const kept = context.file ? '; the partial download is kept' : '';
  const message = viaRedirect
    ? `the download server ${host}, where the Hub redirected the request, refused ${what(context)} with HTTP ${status}${kept}`
    : `${host} answered HTTP ${status} for ${what(context)}, not from the Hub (none of its error headers): a proxy or firewall refused it${kept}`;
  return new ModelError(message, {
    code: 'hub-download-refused',
    hint: viaRedirect
      ? `a proxy or firewall may block ${host}, or the signed link expired: run the command again; if it persists, allow ${host} (and HTTPS_PROXY/NO_PROXY if a proxy is in the way)`
      : `a proxy, firewall or captive portal answered instead of the Hub: check HTTPS_PROXY/HTTP_PROXY/NO_PROXY and HF_ENDPOINT`,
  });
}
