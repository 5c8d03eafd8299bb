import { createHash } from 'node:crypto';

import * as z from 'zod';

import { type CredentialKey } from '../credentials/types';
import { MESSAGE_FIELDS } from '../graph/messages';

/** What a caller subscribes to; `subscription.*` events are always delivered. */
export const MESSAGE_EVENTS = ['created', 'updated', 'deleted'] as const;
export type MessageEvent = (typeof MESSAGE_EVENTS)[number];

export type EventType =
  | `message.${MessageEvent}`
  | 'subscription.paused'
  | 'subscription.resumed'
  | 'subscription.resynced';

/** Message fields an event may carry (`folderId` is Graph's `parentFolderId`). */
export const EVENT_FIELDS = [
  ...MESSAGE_FIELDS.filter((f) => f !== 'parentFolderId'),
  'folderId',
] as const;
export type EventField = (typeof EVENT_FIELDS)[number];

export const DEFAULT_EVENT_FIELDS: readonly EventField[] = [
  'id',
  'subject',
  'from',
  'toRecipients',
  'receivedDateTime',
  'isRead',
  'hasAttachments',
  'folderId',
  'conversationId',
  'internetMessageId',
];

export const eventFieldSchema = z.enum(EVENT_FIELDS);

/** The body POSTed to a webhook (and listed by the `changes` route). */
export interface WebhookEvent {
  type: EventType;
  credentialId: string;
  subscriptionId: string | null;
  occurredAt: string;
  data: Record<string, unknown>;
}

/**
 * `webhook-id` of a message change: the same for every delivery of one change (credential, message,
 * change, changeKey), so a receiver drops duplicates by it.
 */
export function changeEventId(
  key: CredentialKey,
  messageId: string,
  change: MessageEvent,
  changeKey: string | null,
): string {
  const digest = createHash('sha256')
    .update([key.serviceId, key.credentialId, messageId, change, changeKey ?? ''].join('\n'))
    .digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}

/** `webhook-id` of a subscription event: unique per occurrence. */
export function subscriptionEventId(subscriptionId: string, type: EventType, at: number): string {
  const digest = createHash('sha256')
    .update([subscriptionId, type, String(at)].join('\n'))
    .digest('base64url');
  return `sub_${digest.slice(0, 32)}`;
}

/**
 * The start of "from now on" for classifying arrivals: Graph writes `receivedDateTime` in whole
 * seconds, so a message arriving this very second must still count as new.
 */
export function arrivalsSince(now = Date.now()): number {
  return Math.floor(now / 1000) * 1000 - 1000;
}

/** A Graph message's `receivedDateTime` as epoch ms (NaN when absent). */
export function receivedAt(message: Record<string, unknown>): number {
  const value = message.receivedDateTime;
  return typeof value === 'string' ? Date.parse(value) : NaN;
}
