/** One field the API refused, as its problem+json `errors[]` names it. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** Any answer of the API other than success, with the problem's stable `code`. */
export class MailApiError extends Error {
  override readonly name = 'MailApiError' as const;
  /** The problem's stable `code` (`validation_failed`, `not_found`, `reauth_required`, …). */
  readonly code: string;
  readonly status: number;
  /** Quote it when asking the operator: it finds the request's log lines. */
  readonly requestId: string | undefined;
  readonly errors: FieldProblem[];
  readonly detail: string;
  /** The whole problem document (`connectUrl` of a `reauth_required`, `sendId`, …). */
  readonly problem: Readonly<Record<string, unknown>>;
  /** How long the API asked to wait (429/503), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(response: Response, body: unknown, retryAfterMs: number | undefined) {
    const problem = (
      body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}
    ) as Record<string, unknown>;
    const text = (key: string) => (typeof problem[key] === 'string' ? problem[key] : undefined);
    const detail = text('detail') ?? text('title') ?? (typeof body === 'string' ? body : '');
    super(`${response.status} ${text('code') ?? 'http_error'}: ${detail || response.statusText}`);
    this.status = response.status;
    this.code = text('code') ?? 'http_error';
    this.requestId = text('requestId') ?? response.headers.get('x-request-id') ?? undefined;
    this.errors = Array.isArray(problem.errors)
      ? problem.errors.flatMap((e: unknown) =>
          e !== null && typeof e === 'object' && 'path' in e && 'message' in e
            ? [{ path: String(e.path), message: String(e.message) }]
            : [],
        )
      : [];
    this.detail = detail;
    this.problem = problem;
    this.retryAfterMs = retryAfterMs;
  }
}

export function isMailApiError(error: unknown, code?: string): error is MailApiError {
  return error instanceof MailApiError && (code === undefined || error.code === code);
}
