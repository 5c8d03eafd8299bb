import { UnsupportedMediaTypeError, ValidationError } from '../core/errors';
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
      const text = await response.text();
      // The transport refuses a request at the HTTP level with a JSON-RPC error body; callers of
      // this API get every 4xx as problem+json naming what was wrong (MCP clients only read the status).
      if (response.status >= 400) throw refusal(response.status, text);
      return { status: response.status, headers: response.headers, body: text };
    },
  };
}

function refusal(status: number, text: string): Error {
  let message = `the MCP transport refused the request (HTTP ${status})`;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // not JSON: keep the generic message
  }
  if (status === 415) return new UnsupportedMediaTypeError(message);
  return new ValidationError({ path: status === 406 ? 'headers.accept' : 'body', message });
}
