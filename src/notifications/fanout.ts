import { type CredentialKey } from '../credentials/types';
import { type CallerSubscription, type NotificationStore } from './store';
import { type DeliveryMessage, type NotifyQueue } from './queue';
import { type EventType, type MessageEvent, type WebhookEvent } from './events';

/** How many caller subscriptions one credential may have (each fans out every change). */
export const MAX_SUBSCRIPTIONS_PER_CREDENTIAL = 25;

export interface Fanout {
  /** The caller subscriptions on a folder that still receive events. */
  subscribers(key: CredentialKey, folderId: string): Promise<CallerSubscription[]>;
  /**
   * Registers one event for every subscription on the folder that wants it and enqueues its
   * delivery. Idempotent per `webhook-id`: a change registered before is not enqueued again.
   */
  emit(
    key: CredentialKey,
    subscribers: readonly CallerSubscription[],
    event: {
      id: string;
      type: EventType;
      data: (sub: CallerSubscription) => Record<string, unknown>;
    },
  ): Promise<number>;
}

export function createFanout(deps: {
  store: NotificationStore;
  deliveries: NotifyQueue<DeliveryMessage>;
  now?: () => number;
}): Fanout {
  const now = deps.now ?? Date.now;
  return {
    async subscribers(key, folderId) {
      const subs = await deps.store.listSubscriptions(key, MAX_SUBSCRIPTIONS_PER_CREDENTIAL);
      return subs.filter((s) => s.folderId === folderId && s.status !== 'disabled');
    },
    async emit(key, subscribers, event) {
      let registered = 0;
      for (const sub of subscribers) {
        const change = event.type.startsWith('message.')
          ? (event.type.slice('message.'.length) as MessageEvent)
          : undefined;
        if (change && !sub.events.includes(change)) continue;
        const at = now();
        const body: WebhookEvent = {
          type: event.type,
          credentialId: key.credentialId,
          subscriptionId: sub.subscriptionId,
          occurredAt: new Date(at).toISOString(),
          data: event.data(sub),
        };
        const added = await deps.store.addDelivery({
          subscriptionId: sub.subscriptionId,
          deliveryId: event.id,
          serviceId: key.serviceId,
          credentialId: key.credentialId,
          event: body,
          status: 'pending',
          attempts: 0,
          lastStatusCode: undefined,
          lastError: undefined,
          createdAt: at,
          lastAttemptAt: undefined,
          nextAttemptAt: undefined,
        });
        if (!added) {
          // Registered by an earlier run that may have stopped before enqueueing it: enqueue again
          // unless it has been tried (a receiver drops the duplicate by its webhook-id).
          const existing = await deps.store.getDelivery(sub.subscriptionId, event.id);
          if (existing?.status !== 'pending' || existing.attempts > 0) continue;
        }
        await deps.deliveries.enqueue({ v: 1, k: 'deliver', sub: sub.subscriptionId, d: event.id });
        registered++;
      }
      return registered;
    },
  };
}
