import type { HttpResponseInit } from '@azure/functions';

import {
  type AppError,
  type ErrorCode,
  isAppError,
  isErrorOf,
  MethodNotAllowedError,
  PayloadTooLargeError,
  PreconditionFailedError,
  ReauthRequiredError,
  SendAsDeniedError,
  SendOutcomeUnknownError,
  ThrottledError,
  UpstreamError,
  ValidationError,
} from '../core/errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS: Record<ErrorCode, { status: number; title: string }> = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_cursor: { status: 400, title: 'The cursor is not valid' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  send_as_denied: { status: 403, title: 'Exchange refused to send as this address' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  idempotency_conflict: { status: 409, title: 'Idempotency key reused with a different request' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  reauth_required: { status: 409, title: 'The mailbox must be connected again' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  graph_throttled: { status: 429, title: 'Microsoft Graph is throttling this mailbox' },
  graph_error: { status: 502, title: 'Microsoft Graph rejected the request' },
  send_outcome_unknown: { status: 502, title: 'The outcome of the send is unknown' },
  graph_unavailable: { status: 503, title: 'Microsoft Graph is unavailable' },
  store_unavailable: { status: 503, title: 'A storage dependency is unavailable' },
  config_invalid: { status: 500, title: 'The service is misconfigured' },
  internal: { status: 500, title: 'Internal error' },
};

export function statusForCode(code: ErrorCode): number {
  return STATUS[code].status;
}

export interface ProblemContext {
  requestId: string;
  /** The request path, reported as the problem's `instance`. */
  instance?: string;
}

function retryAfterSeconds(error: AppError): number | undefined {
  const ms = isErrorOf(error, ThrottledError)
    ? error.retryAfterMs
    : isErrorOf(error, UpstreamError)
      ? error.retryAfterMs
      : undefined;
  return ms === undefined ? undefined : Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The only place errors become HTTP. Known errors keep their safe detail; anything else is an
 * opaque 500 (the caller logs it with the request id).
 */
export function toProblemResponse(error: unknown, context: ProblemContext): HttpResponseInit {
  const known: AppError | undefined = isAppError(error) ? error : undefined;
  const code: ErrorCode = known?.code ?? 'internal';
  const { status, title } = STATUS[code];
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'x-request-id': context.requestId,
    'cache-control': 'no-store',
  };
  const body: Record<string, unknown> = {
    type: `urn:outlook-mail-functions:problem:${code}`,
    title,
    status,
    detail:
      known && code !== 'internal' && code !== 'config_invalid'
        ? known.detail
        : `An unexpected error occurred. Quote request id ${context.requestId} when reporting it.`,
    code,
    requestId: context.requestId,
  };
  if (context.instance) body.instance = context.instance;
  if (isErrorOf(known, ValidationError)) body.errors = known.errors;
  if (isErrorOf(known, PayloadTooLargeError)) {
    body.limitBytes = known.limitBytes;
    if (known.size) Object.assign(body, known.size);
    if (known.path) body.errors = [{ path: known.path, message: known.detail }];
  }
  if (isErrorOf(known, ReauthRequiredError)) {
    body.credentialId = known.credentialId;
    if (known.connectUrl) body.connectUrl = known.connectUrl;
  }
  if (isErrorOf(known, MethodNotAllowedError)) headers.allow = known.allow.join(', ');
  if (isErrorOf(known, SendOutcomeUnknownError)) body.sendId = known.sendId;
  if (isErrorOf(known, SendAsDeniedError)) body.from = known.from;
  if (isErrorOf(known, PreconditionFailedError)) body.currentVersion = known.currentVersion;
  if (known) {
    const retryAfter = retryAfterSeconds(known);
    if (retryAfter !== undefined) {
      headers['retry-after'] = String(retryAfter);
      body.retryAfterSeconds = retryAfter;
    }
  }
  if (code === 'unauthenticated') headers['www-authenticate'] = 'Bearer, ApiKey header="x-api-key"';
  return { status, headers, jsonBody: body };
}
