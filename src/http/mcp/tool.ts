import { createHash } from 'node:crypto';

import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

import { isAppError, isErrorOf, ReauthRequiredError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { idSchema } from '../../core/validators';
import { type CredentialKey } from '../../credentials/types';

/** Largest text a tool hands back: an agent never pulls a mailbox into its context by accident. */
export const MAX_TOOL_TEXT = 16_000;

/** What every tool call knows besides its arguments. */
export interface ToolContext {
  serviceId: string;
  /** The JSON-RPC id of the `tools/call` request (sends are idempotent per call). */
  callId: string | number;
  log: Logger;
  abortSignal: AbortSignal;
}

/** One MCP tool: JSON-schema input (from zod), annotations, and a run over the domain services. */
export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  /** The HTTP route that does the same (`GET /credentials/{credentialId}/folders`), for docs and tests. */
  route: string;
  title: string;
  description: string;
  input: Shape;
  annotations: ToolAnnotations;
  run(args: z.output<z.ZodObject<Shape>>, context: ToolContext): Promise<unknown>;
}

/** Keeps each definition's argument type while they share one list. */
export function defineTool<Shape extends z.ZodRawShape>(
  definition: ToolDefinition<Shape>,
): ToolDefinition {
  return definition;
}

export const credentialIdArg = idSchema.describe('The connected mailbox (credential id) to use');

export function credentialKey(context: ToolContext, credentialId: string): CredentialKey {
  return { serviceId: context.serviceId, credentialId };
}

/** An offset cursor (`more` of folder, attachment and body slices): what follows is the caller's anyway. */
export const offsetCursor = z
  .string()
  .regex(/^\d{1,9}$/, 'must be the "more" value of an earlier answer')
  .transform(Number)
  .describe('The "more" value of the previous answer, to read on');

/** `items[offset…]` up to `size`, with the `more` cursor of what is left. */
export function slice<T>(
  items: readonly T[],
  offset: number,
  size: number,
): { items: T[]; more: string | null } {
  const end = offset + size;
  return { items: items.slice(offset, end), more: end < items.length ? String(end) : null };
}

/** Text no longer than `max`, cut at `offset`; `more` continues it. */
export function textSlice(
  text: string,
  offset: number,
  max: number,
): { text: string; more: string | null } {
  const end = offset + max;
  return { text: text.slice(offset, end), more: end < text.length ? String(end) : null };
}

/** A stable digest of a tool call's arguments (key order does not matter). */
export function digest(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('base64url');
}

export function result(value: unknown): CallToolResult {
  const text = JSON.stringify(value);
  // Every tool pages below the cap; this is the backstop, never reached by design.
  if (text.length > MAX_TOOL_TEXT) {
    return failure('too_large', 'The answer is too large; ask for fewer items.');
  }
  return { content: [{ type: 'text', text }] };
}

function failure(
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify({ error: { code, detail, ...extra } }) }],
  };
}

/**
 * A failed call as a tool result the model can read (code, detail, the fields at fault), not a
 * protocol error: what went wrong is part of the conversation. Unexpected errors say nothing more.
 */
export function toolFailure(error: unknown, log: Logger, tool: string): CallToolResult {
  if (!isAppError(error)) {
    log.error('tool failed', { tool, error });
    return failure('internal', 'The tool failed unexpectedly; try again later.');
  }
  log.warn('tool refused', { tool, errorCode: error.code });
  const fields = 'errors' in error && Array.isArray(error.errors) ? { errors: error.errors } : {};
  const reconnect = isErrorOf(error, ReauthRequiredError)
    ? { action: 'The mailbox owner must connect the credential again.' }
    : {};
  return failure(error.code, error.detail, { ...fields, ...reconnect });
}
