import { MethodNotAllowedError, NotFoundError } from '../core/errors';
import { type HttpFunctionDefinition } from '../http/definitions';
import { type RouteTable } from '../http/routes';

/**
 * Catch-all `{*path}`: the Functions host ranks it below every other route, so it only sees
 * requests no function took, and answers 404 or 405 as problem+json instead of the host's blank page.
 */
export function fallbackFunction(routes: () => RouteTable<unknown>): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'fallback',
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    route: '{*path}',
    auth: 'anonymous',
    handler({ request }) {
      const path = new URL(request.url).pathname.replace(/^\/api\/?/, '');
      const match = routes().match(request.method, path);
      if (match.kind === 'method_not_allowed') {
        throw new MethodNotAllowedError(request.method, match.allow);
      }
      throw new NotFoundError(`The route ${request.method} /api/${path}`);
    },
  };
}
