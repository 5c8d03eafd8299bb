import { isoSeconds } from './util';

/** A response produced by the Graph half of the sandbox, before it is written to a socket or a batch. */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON value, raw bytes/text, or undefined for an empty body. */
  body?: unknown;
  raw?: Buffer | string;
}

/** Thrown anywhere inside a Graph handler; turned into Graph's error envelope by the router. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const JSON_CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Graph's error body: `{error:{code,message,innerError:{date,request-id,client-request-id}}}`. */
export function graphErrorBody(
  code: string,
  message: string,
  requestId: string,
  clientRequestId: string,
): Record<string, unknown> {
  const innerError: Record<string, string> = {
    date: isoSeconds(Date.now()).replace('Z', ''),
    'request-id': requestId,
    'client-request-id': clientRequestId,
  };
  // Graph's throttling responses carry the status again inside innerError (docs sample).
  if (code === 'TooManyRequests')
    Object.assign(innerError, { code: '429', status: '429', message: 'Please retry after' });
  return { error: { code, message, innerError } };
}

export const badRequest = (message: string, code = 'BadRequest'): GraphError =>
  new GraphError(400, code, message);

export function throttled(message: string, retryAfterSeconds: number): GraphError {
  return new GraphError(429, 'TooManyRequests', message, {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
}

/** Identity-platform error JSON (`{error, error_description, error_codes, timestamp, trace_id, correlation_id}`). */
export class IdentityError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {
    super(description);
  }
}

export function identityErrorBody(
  err: IdentityError,
  correlationId: string,
): Record<string, unknown> {
  const traceId = crypto.randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    error: err.error,
    error_description: `AADSTS${err.aadsts}: ${err.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [err.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.aadsts}`,
  };
}
