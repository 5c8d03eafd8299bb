import { badRequest, GraphError, type GraphResponse } from '../errors';
import type { GraphContext } from '../state';
import { isRecord } from '../util';

/** Parses `Prefer` values (`outlook.body-content-type="text", IdType="ImmutableId"`); keys lower-cased. */
export function parsePrefer(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(',')) {
    const [k, ...rest] = part.split('=');
    if (!k) continue;
    out.set(k.trim().toLowerCase(), rest.join('=').trim().replace(/^"|"$/g, ''));
  }
  return out;
}

export function ok(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): GraphResponse {
  return { status, headers, body };
}

export function noContent(status = 204): GraphResponse {
  return { status, headers: {} };
}

/** Parses a JSON request body; Graph answers malformed JSON with 400 BadRequest. */
export function jsonBody(ctx: GraphContext): Record<string, unknown> {
  const text = ctx.req.body.toString('utf8');
  if (text.trim() === '') throw badRequest('Empty Payload. JSON content expected.', 'BadRequest');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  }
  if (!isRecord(parsed))
    throw badRequest(
      'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
    );
  return parsed;
}

/** The JSON body of an action: only its parameters (any letter case, as OData reads them). */
export function actionParameters(
  ctx: GraphContext,
  action: string,
  parameters: readonly string[],
): Record<string, unknown> {
  const body = jsonBody(ctx);
  const known = parameters.map((p) => p.toLowerCase());
  for (const key of Object.keys(body)) {
    if (!known.includes(key.toLowerCase())) {
      throw badRequest(
        `The parameter '${key}' in the request payload is not a valid parameter for the operation '${action}'.`,
        'RequestBodyRead',
      );
    }
  }
  return body;
}

export function intParam(ctx: GraphContext, name: string): number | null {
  const raw = ctx.req.query.get(name);
  if (raw === null) return null;
  if (!/^\d+$/.test(raw.trim())) {
    throw badRequest(`Invalid value '${raw}' for query parameter '${name}'.`);
  }
  return Number(raw);
}

/** Absolute link to the same collection with changed query options (Graph nextLinks are absolute). */
export function selfLink(ctx: GraphContext, changes: Record<string, string | null>): string {
  const q = new URLSearchParams(ctx.req.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) q.delete(k);
    else q.set(k, v);
  }
  const path = ['', ctx.userSegment, ...ctx.segments].join('/');
  const qs = q.toString();
  return `${ctx.state.origin()}/v1.0${path}${qs ? `?${qs}` : ''}`;
}

export const methodNotAllowed = (): GraphError =>
  new GraphError(
    405,
    'Request_BadRequest',
    'Specified HTTP method is not allowed for the request target.',
  );

export const requireScope = (ctx: GraphContext, kind: 'read' | 'write' | 'send'): void => {
  const s = ctx.grant.scopes;
  const suffix = ctx.isSelf ? '' : '.Shared';
  const allowed =
    kind === 'read'
      ? [`Mail.Read${suffix}`, `Mail.ReadWrite${suffix}`]
      : kind === 'write'
        ? [`Mail.ReadWrite${suffix}`]
        : [`Mail.Send${suffix}`];
  if (!allowed.some((a) => s.has(a))) {
    throw new GraphError(
      403,
      'ErrorAccessDenied',
      'Access is denied. Check credentials and try again.',
    );
  }
  // Other mailboxes need Exchange Full Access (sending from them is checked against Send As later).
  if (!ctx.isSelf) {
    const grant = ctx.state.store.grant(ctx.caller.id, ctx.mailbox.user.id);
    if (!grant?.fullAccess) {
      throw new GraphError(
        403,
        'ErrorAccessDenied',
        'Access is denied. Check credentials and try again.',
      );
    }
  }
};
