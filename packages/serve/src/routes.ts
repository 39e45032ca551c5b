// The V2 REST routes: a request's method and path to what it asks for, or 404 (no such route) / 405 (wrong
// method on a route that exists). Model routes take an optional `/versions/{version}` segment. Besides the
// protocol's own: Triton's statistics (`/v2/models[/{name}[/versions/{v}]]/stats`), model configuration
// (`.../config`) and model repository (`/v2/repository/...`) extensions.
import { HttpError } from './errors.js';

/** What a request asks for. */
export type Route =
  | { readonly kind: 'server-metadata' }
  | { readonly kind: 'server-live' }
  | { readonly kind: 'server-ready' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'models-stats' }
  | { readonly kind: 'repository-index' }
  | { readonly kind: 'repository-load' | 'repository-unload'; readonly model: string }
  | {
      readonly kind: 'model-metadata' | 'model-ready' | 'model-infer' | 'model-stats' | 'model-config';
      readonly model: string;
      readonly version: string | undefined;
    };

/** The kinds of {@link Route}. */
export type RouteKind = Route['kind'];

const GET = 'GET, HEAD';
const POST = 'POST';

function allowed(method: string, allow: string, path: string): void {
  const ok = allow === GET ? method === 'GET' || method === 'HEAD' : method === allow;
  if (!ok) throw new HttpError(405, `method ${method} is not allowed on ${path} (allowed: ${allow})`, { Allow: allow });
}

function decode(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `path ${path}: ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

/**
 * The route of `method` on `path` (without the query string).
 * @throws HttpError 404 for a path the protocol does not define, 405 for a method the route does not take.
 */
export function matchRoute(method: string, path: string): Route {
  const parts = path.split('/').filter((p, i, all) => !(p === '' && (i === 0 || i === all.length - 1)));
  const [root, section, name, ...rest] = parts;
  // Prometheus scrapes /metrics by convention, outside the protocol's /v2.
  if (root === 'metrics' && parts.length === 1) {
    allowed(method, GET, path);
    return { kind: 'metrics' };
  }
  if (root === 'v2') {
    if (parts.length === 1) {
      allowed(method, GET, path);
      return { kind: 'server-metadata' };
    }
    if (section === 'health' && parts.length === 3 && (name === 'live' || name === 'ready')) {
      allowed(method, GET, path);
      return { kind: name === 'live' ? 'server-live' : 'server-ready' };
    }
    // Triton's statistics of every model; a model named "stats" keeps its other routes.
    if (section === 'models' && name === 'stats' && parts.length === 3) {
      allowed(method, GET, path);
      return { kind: 'models-stats' };
    }
    if (section === 'repository' && name === 'index' && parts.length === 3) {
      allowed(method, POST, path);
      return { kind: 'repository-index' };
    }
    if (section === 'repository' && name === 'models' && rest.length === 2 && rest[0] !== '') {
      const action = rest[1];
      if (action === 'load' || action === 'unload') {
        allowed(method, POST, path);
        return { kind: action === 'load' ? 'repository-load' : 'repository-unload', model: decode(rest[0]!, path) };
      }
    }
    if (section === 'models' && name !== undefined && name !== '') {
      const model = decode(name, path);
      let version: string | undefined;
      let tail = rest;
      if (rest[0] === 'versions' && rest.length >= 2 && rest[1] !== '') {
        version = decode(rest[1]!, path);
        tail = rest.slice(2);
      }
      if (tail.length === 0) {
        allowed(method, GET, path);
        return { kind: 'model-metadata', model, version };
      }
      if (tail.length === 1 && tail[0] === 'ready') {
        allowed(method, GET, path);
        return { kind: 'model-ready', model, version };
      }
      if (tail.length === 1 && tail[0] === 'stats') {
        allowed(method, GET, path);
        return { kind: 'model-stats', model, version };
      }
      if (tail.length === 1 && tail[0] === 'config') {
        allowed(method, GET, path);
        return { kind: 'model-config', model, version };
      }
      if (tail.length === 1 && tail[0] === 'infer') {
        allowed(method, POST, path);
        return { kind: 'model-infer', model, version };
      }
    }
  }
  throw new HttpError(404, `no route ${method} ${path}; this server speaks the KServe V2 REST protocol under /v2`);
}
