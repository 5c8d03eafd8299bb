/**
 * The product's error taxonomy. Errors carry a literal `name` and a stable `code`; they know nothing
 * about HTTP. The edge (`src/http/problem.ts`) maps codes to status codes and problem+json.
 */

export type ErrorCode =
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'send_as_denied'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'conflict'
  | 'precondition_failed'
  | 'idempotency_conflict'
  | 'reauth_required'
  | 'invalid_cursor'
  | 'graph_throttled'
  | 'graph_unavailable'
  | 'graph_error'
  | 'store_unavailable'
  | 'send_outcome_unknown'
  | 'config_invalid'
  | 'internal';

export interface FieldError {
  /** Where the problem is, e.g. `to`, `recipients[3].to`, `query.top`. */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  cause?: unknown;
  /** Safe, caller-facing detail; defaults to the message. */
  detail?: string;
}

export class AppError extends Error {
  override name: string = 'AppError';
  readonly code: ErrorCode;
  readonly detail: string;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail ?? message;
  }
}

export class ValidationError extends AppError {
  override name = 'ValidationError' as const;
  readonly errors: FieldError[];

  constructor(errors: FieldError[] | FieldError, options: AppErrorOptions = {}) {
    const list = Array.isArray(errors) ? errors : [errors];
    const summary = list.map((e) => `${e.path}: ${e.message}`).join('; ');
    super('validation_failed', `Invalid request: ${summary}`, options);
    this.errors = list;
  }
}

export class UnauthenticatedError extends AppError {
  override name = 'UnauthenticatedError' as const;
  constructor(
    message = 'A valid x-api-key or Bearer token is required.',
    options: AppErrorOptions = {},
  ) {
    super('unauthenticated', message, options);
  }
}

export class ForbiddenError extends AppError {
  override name = 'ForbiddenError' as const;
  constructor(message: string, options: AppErrorOptions = {}) {
    super('forbidden', message, options);
  }
}

/**
 * Exchange refused to send as the requested `from` (Graph's ErrorSendAsDenied and kin): an alias
 * the tenant does not let users send from, or a mailbox without Send As rights.
 */
export class SendAsDeniedError extends AppError {
  override name = 'SendAsDeniedError' as const;
  /** The address the message was to go out as. */
  readonly from: string;
  constructor(from: string, message: string, options: AppErrorOptions = {}) {
    super('send_as_denied', message, options);
    this.from = from;
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError' as const;
  constructor(what: string, options: AppErrorOptions = {}) {
    super('not_found', `${what} was not found.`, options);
  }
}

export class MethodNotAllowedError extends AppError {
  override name = 'MethodNotAllowedError' as const;
  readonly allow: string[];
  constructor(method: string, allow: string[]) {
    super('method_not_allowed', `Method ${method} is not allowed here; use ${allow.join(', ')}.`);
    this.allow = allow;
  }
}

export class UnsupportedMediaTypeError extends AppError {
  override name = 'UnsupportedMediaTypeError' as const;
  constructor(message: string) {
    super('unsupported_media_type', message);
  }
}

export class PayloadTooLargeError extends AppError {
  override name = 'PayloadTooLargeError' as const;
  /** The limit that was exceeded, in bytes. */
  readonly limitBytes: number;
  readonly path: string | undefined;
  /** For a message: its raw size and the encoded size Exchange would count. */
  readonly size: { rawBytes: number; encodedBytes: number } | undefined;
  constructor(
    message: string,
    limitBytes: number,
    path?: string,
    size?: { rawBytes: number; encodedBytes: number },
  ) {
    super('payload_too_large', message);
    this.limitBytes = limitBytes;
    this.path = path;
    this.size = size;
  }
}

export class ConflictError extends AppError {
  override name = 'ConflictError' as const;
  constructor(
    code: Extract<ErrorCode, 'conflict' | 'idempotency_conflict'>,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(code, message, options);
  }
}

/** An `If-Match` that names a version other than the current one. */
export class PreconditionFailedError extends AppError {
  override name = 'PreconditionFailedError' as const;
  readonly currentVersion: number;
  constructor(message: string, currentVersion: number) {
    super('precondition_failed', message);
    this.currentVersion = currentVersion;
  }
}

export class ReauthRequiredError extends AppError {
  override name = 'ReauthRequiredError' as const;
  readonly credentialId: string;
  /** Filled in at the edge, where the public base URL is known. */
  connectUrl: string | undefined;
  constructor(credentialId: string, options: AppErrorOptions & { connectUrl?: string } = {}) {
    super(
      'reauth_required',
      `Credential ${credentialId} needs to be connected again: its refresh token is no longer valid.`,
      options,
    );
    this.credentialId = credentialId;
    this.connectUrl = options.connectUrl;
  }
}

export class InvalidCursorError extends AppError {
  override name = 'InvalidCursorError' as const;
  constructor(message = 'The cursor was not issued for this credential or has been altered.') {
    super('invalid_cursor', message);
  }
}

/** Graph (or the identity platform) kept throttling us past the invocation's time budget. */
export class ThrottledError extends AppError {
  override name = 'ThrottledError' as const;
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: AppErrorOptions = {}) {
    super('graph_throttled', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** An upstream dependency (Graph, identity platform, Key Vault, storage) failed. */
export class UpstreamError extends AppError {
  override name = 'UpstreamError' as const;
  /** The upstream's own status code, when there was a response. */
  readonly upstreamStatus: number | undefined;
  /** The upstream's error code (e.g. Graph `ErrorItemNotFound`). */
  readonly upstreamCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    code: Extract<ErrorCode, 'graph_error' | 'graph_unavailable' | 'store_unavailable'>,
    message: string,
    details: {
      upstreamStatus?: number;
      upstreamCode?: string;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, details.cause === undefined ? {} : { cause: details.cause });
    this.upstreamStatus = details.upstreamStatus;
    this.upstreamCode = details.upstreamCode;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** A send whose outcome could not be established; it is not retried blindly. */
export class SendOutcomeUnknownError extends AppError {
  override name = 'SendOutcomeUnknownError' as const;
  readonly sendId: string;
  constructor(sendId: string, options: AppErrorOptions = {}) {
    super(
      'send_outcome_unknown',
      `Send ${sendId} may or may not have been delivered; it will not be retried automatically.`,
      options,
    );
    this.sendId = sendId;
  }
}

export class ConfigError extends AppError {
  override name = 'ConfigError' as const;
  readonly problems: FieldError[];
  constructor(problems: FieldError[]) {
    // One line per setting, however many things are wrong with it.
    const bySetting = new Map<string, string[]>();
    for (const p of problems) bySetting.set(p.path, [...(bySetting.get(p.path) ?? []), p.message]);
    super(
      'config_invalid',
      [...bySetting]
        .map(([setting, messages]) => `Setting ${setting}: ${messages.join('; ')}`)
        .join('\n'),
    );
    this.problems = problems;
  }
}

type ErrorClass<T extends Error> = abstract new (...args: never[]) => T;

/**
 * Whether `error` is a `kind`: by `instanceof`, or by its literal `name` when it comes from another
 * copy of this module (a second bundle, another realm), as ky's `isHTTPError` and the Azure SDK's
 * `isRestError` do. The build keeps class names (`keepNames`), so `kind.name` is the literal.
 */
export function isErrorOf<T extends Error>(error: unknown, kind: ErrorClass<T>): error is T {
  return error instanceof kind || (error as { name?: unknown } | null)?.name === kind.name;
}

const APP_ERROR_NAMES: ReadonlySet<string> = new Set(
  [
    AppError,
    ValidationError,
    UnauthenticatedError,
    ForbiddenError,
    SendAsDeniedError,
    NotFoundError,
    MethodNotAllowedError,
    UnsupportedMediaTypeError,
    PayloadTooLargeError,
    ConflictError,
    PreconditionFailedError,
    ReauthRequiredError,
    InvalidCursorError,
    ThrottledError,
    UpstreamError,
    SendOutcomeUnknownError,
    ConfigError,
  ].map((kind) => kind.name),
);

/** Any error of the taxonomy: `instanceof AppError`, or one of its names with a string `code`. */
export function isAppError(error: unknown): error is AppError {
  // The guard itself: the fast path before the name check below.
  // eslint-disable-next-line no-restricted-syntax
  if (error instanceof AppError) return true;
  const e = error as { name?: unknown; code?: unknown } | null;
  return typeof e?.name === 'string' && APP_ERROR_NAMES.has(e.name) && typeof e.code === 'string';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
