import { createHmac, timingSafeEqual } from 'node:crypto';

import type * as z from 'zod';

import { InvalidCursorError } from '../core/errors';

/** Who a cursor was issued to: it opens only for the same service, credential and mailbox. */
export interface CursorBinding {
  serviceId: string;
  credentialId: string;
  /** The shared mailbox the pages come from, or undefined for the credential's default. */
  mailbox?: string | undefined;
}

export interface CursorCodecOptions<S extends z.ZodType> {
  /** The HMAC key (`appKeys.hmacKey('cursor')`); asked for on every use so key rotation applies. */
  key(): Promise<Buffer>;
  /** What a cursor carries, checked again after the signature (defence in depth). */
  schema: S;
  /** Lifetime of an issued cursor (default 24 h). */
  ttlMs?: number;
  now?: () => number;
}

export interface CursorCodec<T> {
  seal(binding: CursorBinding, state: T): Promise<string>;
  /** The state, or InvalidCursorError for a cursor that is malformed, altered, foreign or expired. */
  open(binding: CursorBinding, token: string): Promise<T>;
}

const VERSION = 'c1';
const MAX_CURSOR_CHARS = 8192;
const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;

function bindingText(binding: CursorBinding): string {
  // Ids cannot contain a newline, so the fields cannot be shifted into one another.
  return [binding.serviceId, binding.credentialId, binding.mailbox?.toLowerCase() ?? ''].join('\n');
}

function mac(key: Buffer, binding: CursorBinding, payload: string): Buffer {
  return createHmac('sha256', key)
    .update(`${VERSION}\n${bindingText(binding)}\n${payload}`, 'utf8')
    .digest();
}

/**
 * Opaque, tamper-proof page cursors: `c1.<base64url JSON>.<base64url HMAC-SHA256>`. The binding
 * is part of the MAC input rather than the payload, so a cursor replayed by another service,
 * credential or mailbox simply fails verification.
 */
export function createCursorCodec<S extends z.ZodType>(
  options: CursorCodecOptions<S>,
): CursorCodec<z.output<S>> {
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const now = options.now ?? Date.now;
  return {
    async seal(binding, state) {
      const payload = Buffer.from(
        JSON.stringify({ exp: Math.ceil((now() + ttlMs) / 1000), state }),
        'utf8',
      ).toString('base64url');
      const signature = mac(await options.key(), binding, payload).toString('base64url');
      return `${VERSION}.${payload}.${signature}`;
    },
    async open(binding, token) {
      const parts = token.length <= MAX_CURSOR_CHARS ? token.split('.') : [];
      const [version, payload, signature] = parts;
      if (
        parts.length !== 3 ||
        version !== VERSION ||
        !payload ||
        !signature ||
        !/^[A-Za-z0-9_-]+$/.test(payload) ||
        !/^[A-Za-z0-9_-]+$/.test(signature)
      ) {
        throw new InvalidCursorError('The cursor is malformed.');
      }
      const expected = mac(await options.key(), binding, payload);
      const given = Buffer.from(signature, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new InvalidCursorError();
      }
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw new InvalidCursorError('The cursor is malformed.');
      }
      const envelope = decoded as { exp?: unknown; state?: unknown };
      if (typeof envelope.exp !== 'number' || envelope.exp * 1000 <= now()) {
        throw new InvalidCursorError('The cursor has expired; start again from the first page.');
      }
      const state = options.schema.safeParse(envelope.state);
      if (!state.success) throw new InvalidCursorError('The cursor is malformed.');
      return state.data;
    },
  };
}
