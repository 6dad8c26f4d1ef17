import type { Dispatcher, fetch as UndiciFetch } from 'undici';

/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY (and their lowercase forms, which win, as curl and undici read them).
 * Node 20's fetch ignores them, so behind a corporate proxy every request to the Hub failed with a bare
 * "fetch failed". With a proxy variable set, requests go through undici's EnvHttpProxyAgent: `http://` URLs
 * through HTTP_PROXY, `https://` ones through HTTPS_PROXY (else HTTP_PROXY), hosts NO_PROXY names directly
 * (`example.com` that host only, `.example.com` its subdomains, `*` none). Without one, nothing changes: the
 * plain global fetch, and undici is not even loaded.
 */

export interface ProxySettings {
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
}

function first(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return '';
}

/** The proxy variables of `env`; `undefined` when no proxy is set (NO_PROXY alone changes nothing). */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings | undefined {
  const httpProxy = first(env, 'http_proxy', 'HTTP_PROXY');
  const httpsProxy = first(env, 'https_proxy', 'HTTPS_PROXY');
  if (!httpProxy && !httpsProxy) return undefined;
  return { httpProxy, httpsProxy, noProxy: first(env, 'no_proxy', 'NO_PROXY') };
}

/**
 * A fetch that honours the proxy variables of `env`, or `undefined` when none is set (callers keep the global
 * fetch). The agent is made on the first request and shared by every request of this fetch.
 */
export function proxyFetchFor(env: NodeJS.ProcessEnv): typeof fetch | undefined {
  const settings = proxySettings(env);
  if (!settings) return undefined;
  let loaded: Promise<{ fetch: typeof UndiciFetch; agent: Dispatcher }> | undefined;
  const load = async (): Promise<{ fetch: typeof UndiciFetch; agent: Dispatcher }> => {
    const undici = await import('undici');
    // Passed explicitly ('' = unset) so the agent reads `env`, never process.env behind our back.
    const agent = withoutExperimentalWarning(() => new undici.EnvHttpProxyAgent(settings));
    return { fetch: undici.fetch, agent };
  };
  return async (input, init) => {
    loaded ??= load();
    const { fetch: undiciFetch, agent } = await loaded;
    const url = input instanceof Request ? input.url : input;
    // undici's own fetch with its own agent: the global fetch is a bundled copy of another undici version.
    const response = await undiciFetch(url, { ...(init as object), dispatcher: agent });
    return response as unknown as Response;
  };
}

/**
 * undici 6 marks EnvHttpProxyAgent experimental with a process warning, which Node prints on stderr: a line
 * the user did not ask for on every run behind a proxy, about a library detail they cannot act on. That one
 * warning is dropped while the constructor runs; any other passes through.
 */
function withoutExperimentalWarning<T>(make: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('EnvHttpProxyAgent is experimental')) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return make();
  } finally {
    process.emitWarning = emitWarning;
  }
}
