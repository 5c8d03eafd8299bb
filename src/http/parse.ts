import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import {
  type FieldError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors';
import { ID_RULE, isId, toFieldErrors } from '../core/validators';
import { IDEMPOTENCY_KEY_PATTERN } from '../mail/idempotency';

/** The body limit of every route that does not set its own (`maxBodyBytes`), and of JSON bodies. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export { toFieldErrors } from '../core/validators';

export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix = '',
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(toFieldErrors(result.error.issues, prefix));
  return result.data;
}

function declaredLength(request: HttpRequest): number | undefined {
  const header = request.headers.get('content-length');
  return header && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** Rejects a body over `maxBytes` from its Content-Length before reading anything. */
export function assertBodyWithin(request: HttpRequest, maxBytes: number): void {
  const length = declaredLength(request);
  if (length !== undefined && length > maxBytes) {
    throw new PayloadTooLargeError(
      `The request body is larger than ${maxBytes} bytes.`,
      maxBytes,
      'body',
    );
  }
}

/** Reads the whole body, enforcing the limit also when no Content-Length was sent. */
export async function readBodyBytes(request: HttpRequest, maxBytes: number): Promise<Buffer> {
  assertBodyWithin(request, maxBytes);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new PayloadTooLargeError(
        `The request body is larger than ${maxBytes} bytes.`,
        maxBytes,
        'body',
      );
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export function mediaType(request: HttpRequest): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

export interface ReadJsonOptions {
  maxBytes?: number;
}

/** Parses a JSON body against a schema: 415 for another media type, 413 when too large, 400 otherwise. */
export async function readJson<S extends z.ZodType>(
  request: HttpRequest,
  schema: S,
  options: ReadJsonOptions = {},
): Promise<{ value: z.output<S>; bytes: Buffer }> {
  const type = mediaType(request);
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new UnsupportedMediaTypeError('Send the body as application/json.');
  }
  const bytes = await readBodyBytes(request, options.maxBytes ?? DEFAULT_MAX_BODY_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ValidationError({
      path: 'body',
      message: `is not valid JSON: ${(error as Error).message}`,
    });
  }
  return { value: parseWith(schema, parsed), bytes };
}

/**
 * Query parameters against a strict schema: unknown or repeated parameters are errors that name
 * the parameter, so a typo never silently changes a result.
 */
export function parseQuery<S extends z.ZodType>(request: HttpRequest, schema: S): z.output<S> {
  // No prototype: `?__proto__=…` is an own key the schema refuses as unknown, not a setter that drops it.
  const values = Object.create(null) as Record<string, string>;
  const errors: FieldError[] = [];
  for (const key of new Set(request.query.keys())) {
    const all = request.query.getAll(key);
    if (all.length > 1) errors.push({ path: `query.${key}`, message: 'is given more than once' });
    values[key] = all[0] ?? '';
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return parseWith(schema, values, 'query');
}

/** A route parameter that must be one of our identifiers (`[A-Za-z0-9_-]{1,64}`). */
export function routeId(request: HttpRequest, name: string): string {
  const value = request.params[name] ?? '';
  if (!isId(value)) {
    throw new ValidationError({ path: name, message: ID_RULE });
  }
  return value;
}

/** Query booleans are spelled `true`/`false` only. */
export const queryBoolean = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((v) => v === 'true');

/** A page size in the query: a whole number from 1 to `max`, `fallback` when absent. */
export function queryTop(max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max))
    .default(fallback);
}

/** The optional `Idempotency-Key` header: 1–200 printable ASCII characters. */
export function idempotencyKey(request: HttpRequest): string | undefined {
  const value = request.headers.get('idempotency-key');
  if (value === null) return undefined;
  if (!IDEMPOTENCY_KEY_PATTERN.test(value)) {
    throw new ValidationError({
      path: 'header.Idempotency-Key',
      message: 'must be 1–200 printable ASCII characters',
    });
  }
  return value;
}
