import {
  type AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  ThrottledError,
  UpstreamError,
  ValidationError,
} from '../core/errors';
import { retryAfterMs } from '../core/retry-after';

/** Graph's request size limit (4 MB). */
export const GRAPH_REQUEST_LIMIT_BYTES = 4_000_000;

/** Graph 400s that name something the caller gave us (an id, an address), not a request we built. */
const CALLER_INPUT_CODES = new Set([
  'ErrorInvalidRecipients',
  'ErrorInvalidUser',
  'ErrorInvalidSender',
  'ErrorInvalidExtendedPropertyValue',
  // Exchange's default folders cannot be renamed, moved or deleted (EWS error names).
  'ErrorDeleteDistinguishedFolder',
  'ErrorCannotRenameDistinguishedFolder',
  'ErrorMoveDistinguishedFolder',
  'ErrorMoveCopyFailed',
]);

export interface GraphErrorBody {
  error?: { code?: string; message?: string; innerError?: Record<string, unknown> };
}

export function parseGraphError(text: string): {
  code: string | undefined;
  message: string | undefined;
} {
  try {
    const body = JSON.parse(text) as GraphErrorBody;
    return { code: body.error?.code, message: body.error?.message };
  } catch {
    return { code: undefined, message: undefined };
  }
}

/**
 * Turns a failed Graph response into our taxonomy. Graph's own message is kept (it names the
 * property or limit at fault) but never the request URL, which may carry mailbox data.
 */
export function toGraphError(status: number, headers: Headers, text: string): AppError {
  const { code, message } = parseGraphError(text);
  const requestId = headers.get('request-id') ?? undefined;
  const graphSays = `Graph answered ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const wait = retryAfterMs(headers);
  // A malformed id cannot name anything in the mailbox: to our caller it is simply not there.
  if (status === 404 || code === 'ErrorInvalidIdMalformed') {
    return new NotFoundError('The requested mailbox item', { cause: graphSays });
  }
  if (status === 413 || code === 'ErrorMessageSizeExceeded') {
    return new PayloadTooLargeError(
      `The message is larger than Exchange accepts. ${graphSays}`,
      GRAPH_REQUEST_LIMIT_BYTES,
    );
  }
  if (status === 400 && code !== undefined && CALLER_INPUT_CODES.has(code)) {
    return new ValidationError({ path: 'request', message: graphSays });
  }
  if (status === 409 || code === 'ErrorFolderExists') {
    return new ConflictError('conflict', `The mailbox already has this. ${graphSays}`);
  }
  if (status === 403) {
    return new ForbiddenError(`The connected account may not do this. ${graphSays}`);
  }
  if (status === 429) {
    return new ThrottledError(
      `Microsoft Graph is throttling this mailbox. ${graphSays}`,
      wait ?? 1000,
    );
  }
  return new UpstreamError(status >= 500 ? 'graph_unavailable' : 'graph_error', graphSays, {
    upstreamStatus: status,
    ...(code ? { upstreamCode: code } : {}),
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
    ...(requestId ? { cause: `request-id ${requestId}` } : {}),
  });
}
