/**
 * Spellings of one request path that a router may decode, normalise or fold onto the route (or not): the
 * hostile inputs of the auth tests. Whatever the server makes of them, without the key none may be answered.
 */

/** Percent-encodes the character at `index` of `path`. */
function encodeAt(path: string, index: number): string {
  const hex = path.charCodeAt(index).toString(16).toUpperCase().padStart(2, '0');
  return `${path.slice(0, index)}%${hex}${path.slice(index + 1)}`;
}

export function pathVariants(path: string): string[] {
  const segments = path.split('/').filter(Boolean);
  const variants = new Set<string | undefined>([
    path,
    // every single character encoded in turn (`/v%31/…`, `/%761/…`), then all of them
    ...[...path].map((char, i) => (char === '/' ? undefined : encodeAt(path, i))),
    [...path].map((char) => (char === '/' ? '/' : `%${char.charCodeAt(0).toString(16)}`)).join(''),
    // double encoding, and encoded slashes
    path.replace('1', '%2531'),
    `/${segments.join('%2F')}`,
    `/${segments.join('%2f')}`,
    // doubled and trailing slashes
    `/${path}`,
    path.replaceAll('/', '//'),
    `${path}/`,
    `${path}//`,
    // trailing dots
    `${path}.`,
    `${path}/.`,
    `/${segments[0]}./${segments.slice(1).join('/')}`,
    // case
    path.toUpperCase(),
    path.replace('v1', 'V1'),
    // dot segments
    `/x/..${path}`,
    `/${segments[0]}/x/../${segments.slice(1).join('/')}`,
    `/${segments[0]}/./${segments.slice(1).join('/')}`,
    `/%2e%2e${path}`,
    `/x/%2E%2E${path}`,
    `${path}/..`,
    // matrix parameters, queries, fragments, other separators
    `${path};x`,
    `/${segments[0]};/${segments.slice(1).join('/')}`,
    `${path};.json`,
    `${path}?x=1`,
    `${path}?`,
    `${path}#x`,
    path.replaceAll('/', '\\'),
    `${path}%00`,
    `${path}%`,
    `${path}%zz`,
    // absolute-form request targets
    `http://localhost${path}`,
    `http://evil.example${path}`,
  ]);
  return [...variants].filter((variant): variant is string => variant !== undefined);
}
