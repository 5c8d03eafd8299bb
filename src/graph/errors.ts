import {
  type AppError,
  ForbiddenError,
  NotFoundError,
  ThrottledError,
  UpstreamError,
} from '../errors';

export interface GraphErrorBody {
  error?: { code?: string; message?: string; innerError?: Record<string, unknown> };
}

/** Retry-After in ms: Graph sends (fractional) seconds, RFC 9110 also allows an HTTP date. */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
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
  if (status === 404) return new NotFoundError('The requested mailbox item', { cause: graphSays });
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
