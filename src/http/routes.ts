/**
 * Route templates in the Functions host's syntax (`credentials/{credentialId}/messages`), matched the
 * way ASP.NET routing ranks them: literal segments beat parameters, catch-alls come last. Both the
 * local host and the catch-all function use this, so 404 and 405 answers agree everywhere.
 */

export interface CompiledRoute<T> {
  template: string;
  methods: readonly string[];
  value: T;
  segments: Array<{ literal: string } | { param: string; catchAll: boolean }>;
}

export type RouteMatch<T> =
  | { kind: 'match'; value: T; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allow: string[] }
  | { kind: 'not_found' };

export function compileRoute<T>(
  template: string,
  methods: readonly string[],
  value: T,
): CompiledRoute<T> {
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      const param = /^\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(:[^}?]+)?\??\}$/.exec(segment);
      return param
        ? { param: param[2]!, catchAll: param[1] === '*' }
        : { literal: segment.toLowerCase() };
    });
  return { template, methods: methods.map((m) => m.toUpperCase()), value, segments };
}

/** Lower ranks win: a literal at the first differing position beats a parameter. */
function rank<T>(route: CompiledRoute<T>): string {
  return route.segments.map((s) => ('literal' in s ? '0' : s.catchAll ? '2' : '1')).join('');
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function matchSegments<T>(
  route: CompiledRoute<T>,
  parts: string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const [index, segment] of route.segments.entries()) {
    if ('param' in segment && segment.catchAll) {
      params[segment.param] = parts.slice(index).join('/');
      return params;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if ('literal' in segment) {
      if (safeDecode(part).toLowerCase() !== segment.literal) return undefined;
    } else {
      // A malformed escape stays as sent, so the handler rejects the id as invalid (400).
      params[segment.param] = safeDecode(part);
    }
  }
  return parts.length === route.segments.length ? params : undefined;
}

export class RouteTable<T> {
  private readonly routes: CompiledRoute<T>[];

  constructor(routes: Array<CompiledRoute<T>>) {
    this.routes = [...routes].sort((a, b) => rank(a).localeCompare(rank(b)));
  }

  /** `path` is relative to the route prefix and still percent-encoded. */
  match(method: string, path: string): RouteMatch<T> {
    const parts = path.replace(/^\/+/, '').split('/');
    if (parts.at(-1) === '') parts.pop();
    const allow = new Set<string>();
    for (const route of this.routes) {
      const params = matchSegments(route, parts);
      if (!params) continue;
      if (route.methods.includes(method.toUpperCase()))
        return { kind: 'match', value: route.value, params };
      for (const m of route.methods) allow.add(m);
    }
    if (allow.size > 0) return { kind: 'method_not_allowed', allow: [...allow].sort() };
    return { kind: 'not_found' };
  }
}
