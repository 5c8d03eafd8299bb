import { type EventField, type MessageEvent } from './events';
import { type CallerSubscription, type Delivery, type DeliveryStatus } from './store';

export interface SubscriptionView {
  subscriptionId: string;
  status: CallerSubscription['status'];
  reason?: string;
  folder: string;
  folderId: string;
  events: MessageEvent[];
  webhookUrl: string;
  fields: EventField[];
  createdAt: string;
}

export interface DeliveryView {
  deliveryId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
}

/** Which delivery statuses each `status` filter of the deliveries route lists. */
export const STATUS_FILTER: Record<'failed' | 'pending' | 'delivered' | 'all', DeliveryStatus[]> = {
  failed: ['retrying', 'dead'],
  pending: ['pending', 'retrying'],
  delivered: ['delivered'],
  all: ['pending', 'retrying', 'delivered', 'dead', 'cancelled'],
};

export function toView(sub: CallerSubscription): SubscriptionView {
  return {
    subscriptionId: sub.subscriptionId,
    status: sub.status,
    ...(sub.reason ? { reason: sub.reason } : {}),
    folder: sub.folder,
    folderId: sub.folderId,
    events: sub.events,
    webhookUrl: sub.webhookUrl,
    fields: sub.fields,
    createdAt: sub.createdAt,
  };
}

export function deliveryView(d: Delivery): DeliveryView {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    deliveryId: d.deliveryId,
    type: d.event.type,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode ?? null,
    lastError: d.lastError ?? null,
    createdAt: new Date(d.createdAt).toISOString(),
    lastAttemptAt: iso(d.lastAttemptAt),
    nextAttemptAt: d.status === 'retrying' ? iso(d.nextAttemptAt) : null,
  };
}
