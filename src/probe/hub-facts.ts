import { readFile } from 'node:fs/promises';
import { getVariant, type VariantId } from '../core/catalog.js';
import { AtomrError } from '../core/errors.js';
import { hfEndpoint, hfOffline, hubFactsFile } from '../core/paths.js';
import { writeFileAtomically } from '../core/state-files.js';
import { ggufSpecFor, type GgufSpec } from '../hub/gguf-source.js';
import type { RepoInfo } from '../hub/repo-info.js';
import { selectGgufFiles, selectVllmFiles } from '../hub/runner-files.js';
import { formatSeconds } from './units.js';

/**
 * What the Hub says about the repos a variant needs — whether each is gated, and how big the files a runner would
 * download are — asked once per repo (`GET {HF_ENDPOINT}/api/models/{repo}/revision/main`, through the one Hub
 * client), concurrently with the machine scan and under its own short timeout, and remembered in the state
 * directory (hub-facts.json) so the next probe asks nothing. Offline, timed out or unreachable: the catalog's facts
 * and a note saying so. Never throws: the probe's verdict must not depend on the network being there.
 */

/** How long the probe waits for the Hub: it is a hint for the verdict, not worth a slow probe. */
export const HUB_FACTS_TIMEOUT_MS = 1_500;

/** How long a remembered answer is used before the Hub is asked again (repos are re-uploaded now and then). */
export const HUB_FACTS_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface RepoFacts {
  repo: string;
  /** `gated` from the Hub's answer; true as well when the Hub refused the request (401/403). */
  gated: boolean;
  /** The Hub refused the request with the token that was sent (or without one): a token with access is needed. */
  refused?: boolean;
  /** Bytes of the files the runner would download; absent when the Hub did not list them. */
  bytes?: number;
  /** For a GGUF repo: the file the quant preference chain picks. */
  file?: string;
}

export interface HubFacts {
  /** `hub`: asked now; `remembered`: hub-facts.json; `catalog`: the Hub was not asked or did not answer. */
  source: 'hub' | 'remembered' | 'catalog';
  vllm: RepoFacts;
  /** Absent for a local GGUF override. */
  gguf?: RepoFacts;
  /** Why the catalog's facts stand in, when they do. */
  note?: string;
}

interface RememberedRepo {
  checkedAt: string;
  gated: boolean;
  files: { path: string; size: number }[];
}

interface RememberedFile {
  version: 1;
  /** Keyed by `<endpoint> <repo>`: a mirror's answer is not the Hub's. */
  repos: Record<string, RememberedRepo>;
}

export interface HubFactsOptions {
  model: VariantId;
  ggufOverride: string | undefined;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** For tests: what time it is. */
  now?: () => number;
}

export async function lookupHubFacts(options: HubFactsOptions): Promise<HubFacts> {
  let spec: GgufSpec;
  try {
    spec = ggufSpecFor(options.model, options.ggufOverride);
  } catch {
    // A malformed ATOMR_INFER_GEMMA_GGUF: the probe's own reading of it reports the error (exit 2).
    spec = { kind: 'local', path: '' };
  }
  try {
    return await lookup(options, spec);
  } catch (error) {
    // Never the reason a probe fails: the catalog's facts, and what went wrong in a note.
    const reason = error instanceof Error ? error.message : String(error);
    return catalogFacts(
      options.model,
      spec,
      `asking the Hub failed (${reason}): gating and download sizes are the catalog’s`,
    );
  }
}

async function lookup(options: HubFactsOptions, spec: GgufSpec): Promise<HubFacts> {
  const { model, env } = options;
  const ggufRepo = spec.kind === 'local' ? undefined : spec.repo;
  const repos = [model as string, ...(ggufRepo && ggufRepo !== model ? [ggufRepo] : [])];
  const catalog = (note: string): HubFacts => catalogFacts(model, spec, note);
  if (hfOffline(env)) return catalog('HF_HUB_OFFLINE is set: gating and download sizes are the catalog’s');

  const endpoint = hfEndpoint(env);
  const now = options.now ?? Date.now;
  const file = hubFactsFile(env);
  const remembered = await readRemembered(file);
  const fresh = (repo: string): RememberedRepo | undefined => {
    const entry = Object.hasOwn(remembered.repos, `${endpoint} ${repo}`)
      ? remembered.repos[`${endpoint} ${repo}`]
      : undefined;
    if (!isRememberedRepo(entry)) return undefined;
    const age = now() - Date.parse(entry.checkedAt);
    return age >= 0 && age < HUB_FACTS_MAX_AGE_MS ? entry : undefined;
  };
  const known = new Map<string, RememberedRepo>();
  for (const repo of repos) {
    const entry = fresh(repo);
    if (entry) known.set(repo, entry);
  }
  const missing = repos.filter((repo) => !known.has(repo));
  const refused = new Set<string>();
  let problem: string | undefined;
  if (missing.length > 0) {
    const timeoutMs = options.timeoutMs ?? HUB_FACTS_TIMEOUT_MS;
    const answers = await askHub(missing, env, timeoutMs);
    let learned = false;
    for (const [repo, answer] of answers) {
      if (answer.ok) {
        const entry: RememberedRepo = {
          checkedAt: new Date(now()).toISOString(),
          gated: answer.info.gated ?? false,
          files: answer.info.files.map(({ path, size }) => ({ path, size })),
        };
        known.set(repo, entry);
        remembered.repos[`${endpoint} ${repo}`] = entry;
        learned = true;
      } else if (answer.refused) {
        refused.add(repo);
      } else {
        problem ??= answer.problem;
      }
    }
    // Remembering is a convenience: a read-only state directory costs the next probe a request, nothing more.
    if (learned) {
      await writeFileAtomically(file, `${JSON.stringify(remembered, null, 2)}\n`, {
        what: 'the remembered Hub answers',
      }).catch(() => undefined);
    }
  }

  const facts = catalogFacts(model, spec, undefined);
  const factsFor = (
    repo: string,
    fallback: RepoFacts,
    select: (paths: string[]) => string[],
    gguf: boolean,
  ): RepoFacts => {
    if (refused.has(repo)) return { repo, gated: true, refused: true };
    const entry = known.get(repo);
    if (!entry) return fallback;
    let selected: string[];
    try {
      selected = select(entry.files.map((f) => f.path));
    } catch {
      // The listing lacks what the runner needs (no config, no matching GGUF): pull says so; sizes stay the catalog's.
      return { repo, gated: entry.gated };
    }
    const wanted = new Set(selected);
    const bytes = entry.files.filter((f) => wanted.has(f.path)).reduce((sum, f) => sum + f.size, 0);
    return { repo, gated: entry.gated, bytes, ...(gguf && selected[0] ? { file: selected[0] } : {}) };
  };
  const vllm = factsFor(model, facts.vllm, (paths) => selectVllmFiles(paths, model), false);
  const gguf =
    facts.gguf && ggufRepo
      ? factsFor(ggufRepo, facts.gguf, (paths) => selectGgufFiles(paths, spec, ggufRepo), true)
      : undefined;
  const answered = repos.every((repo) => known.has(repo) || refused.has(repo));
  const source = missing.length === 0 ? 'remembered' : answered || known.size > 0 ? 'hub' : 'catalog';
  const note = problem ? `${problem}: gating and download sizes are the catalog’s` : undefined;
  return { source, vllm, ...(gguf ? { gguf } : {}), ...(note ? { note } : {}) };
}

function catalogFacts(model: VariantId, spec: GgufSpec, note: string | undefined): HubFacts {
  const variant = getVariant(model);
  return {
    source: 'catalog',
    vllm: { repo: model, gated: variant.gated },
    // A GGUF repo the catalog does not know (an override) is assumed open, as Gemma 4's own are.
    ...(spec.kind === 'local' ? {} : { gguf: { repo: spec.repo, gated: false } }),
    ...(note ? { note } : {}),
  };
}

type Answer = { ok: true; info: RepoInfo } | { ok: false; refused: boolean; problem: string };

/** One model-info request per repo, all at once, one try each, all abandoned after `timeoutMs`. */
async function askHub(
  repos: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Map<string, Answer>> {
  const endpoint = hfEndpoint(env);
  const { createHubClient } = await import('../hub/pull.js');
  const client = createHubClient(env, { retry: { attempts: 1 } });
  const signal = AbortSignal.timeout(timeoutMs);
  const results = await Promise.all(
    repos.map(async (repo): Promise<[string, Answer]> => {
      try {
        return [repo, { ok: true, info: await client.repoInfo(repo, 'main', signal, { attempts: 1 }) }];
      } catch (error) {
        if (signal.aborted) {
          return [
            repo,
            {
              ok: false,
              refused: false,
              problem: `the Hub at ${endpoint} did not answer within ${formatSeconds(timeoutMs)}`,
            },
          ];
        }
        const code = error instanceof AtomrError ? error.code : undefined;
        if (code === 'hub-gated' || code === 'hub-unauthorized') {
          return [repo, { ok: false, refused: true, problem: '' }];
        }
        const message = error instanceof Error ? error.message : String(error);
        return [
          repo,
          {
            ok: false,
            refused: false,
            problem:
              code === 'hub-unreachable'
                ? message
                : `the Hub gave no usable answer about ${repo} (${message})`,
          },
        ];
      }
    }),
  );
  return new Map(results);
}

async function readRemembered(file: string): Promise<RememberedFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<RememberedFile>;
    if (parsed.version === 1 && typeof parsed.repos === 'object' && parsed.repos !== null) {
      return { version: 1, repos: parsed.repos };
    }
  } catch {
    // Absent, unreadable or damaged: ask the Hub, and write a good one.
  }
  return { version: 1, repos: {} };
}

/** A remembered entry as this file writes it; anything else (hand-edited, another version) is asked again. */
function isRememberedRepo(value: unknown): value is RememberedRepo {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<RememberedRepo>;
  return (
    typeof entry.checkedAt === 'string' &&
    typeof entry.gated === 'boolean' &&
    Array.isArray(entry.files) &&
    entry.files.every(
      (file: unknown) =>
        typeof file === 'object' &&
        file !== null &&
        typeof (file as { path?: unknown }).path === 'string' &&
        Number.isSafeInteger((file as { size?: unknown }).size),
    )
  );
}
