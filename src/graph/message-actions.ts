import { UpstreamError } from '../core/errors';
import { type BatchRequest } from './batch';
import { type MailboxGraph, segment } from './client';
import { type RetryMode } from './middleware';

/**
 * The Graph requests behind the message actions, built in one place so an action on one message
 * and the same action on a thousand (inside `$batch`) are the same request.
 */

/** Graph's dateTimeTimeZone; we always write UTC. */
export interface GraphDateTimeTimeZone {
  dateTime: string;
  timeZone: 'UTC';
}

export interface GraphFollowupFlag {
  flagStatus: 'notFlagged' | 'flagged' | 'complete';
  startDateTime?: GraphDateTimeTimeZone;
  dueDateTime?: GraphDateTimeTimeZone;
}

/** The message properties Graph lets us change on sent and received mail (message-update docs). */
export interface MessageChange {
  isRead?: boolean;
  flag?: GraphFollowupFlag;
  categories?: string[];
  importance?: 'low' | 'normal' | 'high';
}

export type MessageAction =
  | { kind: 'update'; change: MessageChange }
  | { kind: 'move' | 'copy'; destinationId: string }
  | { kind: 'permanentDelete' };

export type ActionRequest = Omit<BatchRequest, 'id'> & { retry: RetryMode };

/** Graph wants a dateTimeTimeZone: an ISO date-time without offset plus the zone's name. */
export function utcDateTime(date: Date): GraphDateTimeTimeZone {
  return { dateTime: date.toISOString().replace(/Z$/, ''), timeZone: 'UTC' };
}

/**
 * The request for `action` on `messageId`. Moves are retried like reads: with immutable ids (asked
 * for on every request) moving a message again to the same folder changes nothing. A copy is not
 * repeatable, so it is retried only when Graph throttled it (nothing happened then).
 */
export function actionRequest(
  root: string,
  messageId: string,
  action: MessageAction,
): ActionRequest {
  const path = `${root}/messages/${segment(messageId)}`;
  switch (action.kind) {
    case 'update':
      return { method: 'PATCH', url: path, body: action.change, retry: 'idempotent' };
    case 'move':
      return {
        method: 'POST',
        url: `${path}/move`,
        body: { destinationId: action.destinationId },
        retry: 'idempotent',
      };
    case 'copy':
      return {
        method: 'POST',
        url: `${path}/copy`,
        body: { destinationId: action.destinationId },
        retry: 'throttle-only',
      };
    case 'permanentDelete':
      return { method: 'POST', url: `${path}/permanentDelete`, retry: 'idempotent' };
  }
}

/** The message Graph answered (update, move, copy), reduced to what the API reports. */
export interface ActedMessage {
  id: string;
  parentFolderId: string | null;
  isRead: boolean | null;
  importance: string | null;
  categories: string[];
  flag: { status: string; startDateTime: string | null; dueDateTime: string | null } | null;
}

function asUtc(value: unknown): string | null {
  const v = value as { dateTime?: unknown; timeZone?: unknown } | null | undefined;
  if (typeof v?.dateTime !== 'string') return null;
  // Graph echoes the zone it was given; we only ever give UTC.
  return /Z|[+-]\d\d:\d\d$/.test(v.dateTime) ? v.dateTime : `${v.dateTime}Z`;
}

export function actedMessage(body: unknown): ActedMessage {
  const m = (body ?? {}) as Record<string, unknown>;
  if (typeof m.id !== 'string') {
    throw new UpstreamError(
      'graph_error',
      'Microsoft Graph answered an action without a message id.',
    );
  }
  const flag = m.flag as Record<string, unknown> | undefined;
  return {
    id: m.id,
    parentFolderId: typeof m.parentFolderId === 'string' ? m.parentFolderId : null,
    isRead: typeof m.isRead === 'boolean' ? m.isRead : null,
    importance: typeof m.importance === 'string' ? m.importance.toLowerCase() : null,
    categories: Array.isArray(m.categories)
      ? m.categories.filter((c): c is string => typeof c === 'string')
      : [],
    flag:
      flag && typeof flag.flagStatus === 'string'
        ? {
            status: flag.flagStatus,
            startDateTime: asUtc(flag.startDateTime),
            dueDateTime: asUtc(flag.dueDateTime),
          }
        : null,
  };
}

/** Runs one action on its own; the answer's message for update/move/copy, null for deletes. */
export async function runAction(
  graph: MailboxGraph,
  messageId: string,
  action: MessageAction,
): Promise<ActedMessage | null> {
  const request = actionRequest(graph.root, messageId, action);
  const result = await graph.client.json<unknown>(request.method, request.url, {
    ...(request.body === undefined ? {} : { body: request.body }),
    retry: request.retry,
  });
  return action.kind === 'permanentDelete' ? null : actedMessage(result.body);
}
