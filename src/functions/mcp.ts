import { type HttpFunctionDefinition } from '../http/definitions';
import { type McpEndpoint } from '../http/mcp/server';
import { DEFAULT_MAX_BODY_BYTES, readBodyBytes } from '../http/parse';

/**
 * `POST /api/mcp`: the Model Context Protocol over Streamable HTTP (stateless, JSON answers) for
 * AI agents, behind the same caller authentication as every route (docs/mcp.md).
 */
export function mcpFunction(endpoint: McpEndpoint): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'mcp',
    methods: ['POST'],
    route: 'mcp',
    auth: 'caller',
    async handler({ request, caller, log, abortSignal }) {
      const body = await readBodyBytes(request, DEFAULT_MAX_BODY_BYTES);
      const response = await endpoint.handle(
        new Request(request.url, {
          method: 'POST',
          headers: request.headers,
          body: new Uint8Array(body),
        }),
        { serviceId: caller.serviceId, log, abortSignal },
      );
      return {
        status: response.status,
        headers: response.headers,
        body: await response.text(),
      };
    },
  };
}
