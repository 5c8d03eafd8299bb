import { randomInt } from 'node:crypto';

import { type Logger } from '../core/logger';
import { type DeliveryMessage, type NotifyQueue } from './queue';
import { type CallerSubscription, type Delivery, type NotificationStore } from './store';
import { signWebhook } from './signing';
import { addressRefusal } from './webhook-fetch';

export interface DeliverySettings {
  /** First retry after a failed attempt; each next one waits twice as long (with jitter). */
  retryBaseMs: number;
  /** Longest wait between two attempts. */
  retryMaxMs: number;
  /** After this long since the event, a failing delivery is dead-lettered. */
  retryWindowMs: number;
  /** How long a receiver has to answer. */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  retryBaseMs: 30_000,
  retryMaxMs: 3600_000,
  retryWindowMs: 24 * 3600_000,
  timeoutMs: 10_000,
};

/** Exponential backoff with "full jitter" on the upper half: attempt n waits base·2ⁿ⁻¹ (±50 %). */
export function backoffMs(attempts: number, settings: DeliverySettings): number {
  const ceiling = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (attempts - 1));
  return Math.round(ceiling / 2 + randomInt(Math.max(1, Math.round(ceiling / 2))));
}

export interface DeliveryWorker {
  /** One attempt; a failure re-enqueues the delivery for its next try (or dead-letters it). */
  handle(message: DeliveryMessage, options: { log: Logger }): Promise<void>;
}

export function createDeliveryWorker(deps: {
  store: NotificationStore;
  queue: NotifyQueue<DeliveryMessage>;
  secretOf(sub: CallerSubscription): Promise<string>;
  /** The caller subscription of a delivery (any service: the delivery row names it). */
  subscription(delivery: Delivery): Promise<CallerSubscription | undefined>;
  disable(sub: CallerSubscription, reason: string): Promise<void>;
  settings: DeliverySettings;
  /** Refuses internal addresses at connect time and follows no redirect (`webhook-fetch.ts`). */
  fetch: typeof fetch;
}): DeliveryWorker {
  const { store, settings } = deps;
  return {
    async handle(message, { log }) {
      const delivery = await store.getDelivery(message.sub, message.d);
      if (!delivery || delivery.status === 'delivered' || delivery.status === 'cancelled') return;
      const sub = await deps.subscription(delivery);
      if (!sub || sub.status === 'disabled') {
        await store.updateDelivery({ ...delivery, status: 'cancelled' });
        return;
      }
      const body = JSON.stringify(delivery.event);
      const headers = signWebhook(await deps.secretOf(sub), delivery.deliveryId, body);
      const at = Date.now();
      let status: number | undefined;
      let error: string | undefined;
      let refused: string | undefined;
      try {
        const response = await deps.fetch(sub.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(settings.timeoutMs),
        });
        status = response.status;
        await response.body?.cancel().catch(() => undefined);
      } catch (cause) {
        error = cause instanceof Error ? cause.name : 'network error';
        refused = addressRefusal(cause)?.message;
      }
      const attempts = delivery.attempts + 1;
      const base = { ...delivery, attempts, lastAttemptAt: at, lastStatusCode: status };
      if (status !== undefined && status >= 200 && status < 300) {
        await store.updateDelivery({ ...base, status: 'delivered', nextAttemptAt: undefined });
        return;
      }
      if (status === 410) {
        // The receiver says the endpoint is gone for good.
        await store.updateDelivery({ ...base, status: 'dead', lastError: 'receiver answered 410' });
        await deps.disable(sub, 'receiver_gone');
        log.warn('webhook answered 410; subscription disabled', {
          subscriptionId: sub.subscriptionId,
        });
        return;
      }
      if (refused !== undefined) {
        // Permanent until the receiver's DNS changes: retrying would only knock again.
        await store.updateDelivery({
          ...base,
          status: 'dead',
          lastError: refused,
          nextAttemptAt: undefined,
        });
        log.warn('webhook delivery refused: the host is an internal address', {
          subscriptionId: sub.subscriptionId,
          deliveryId: delivery.deliveryId,
          reason: refused,
        });
        return;
      }
      const redirect = status !== undefined && status >= 300 && status < 400;
      const lastError =
        error ?? `receiver answered ${status}${redirect ? ' (redirects are not followed)' : ''}`;
      const wait = backoffMs(attempts, settings);
      if (at + wait - delivery.createdAt > settings.retryWindowMs) {
        await store.updateDelivery({
          ...base,
          status: 'dead',
          lastError,
          nextAttemptAt: undefined,
        });
        log.warn('webhook delivery dead-lettered', {
          subscriptionId: sub.subscriptionId,
          deliveryId: delivery.deliveryId,
        });
        return;
      }
      await store.updateDelivery({
        ...base,
        status: 'retrying',
        lastError,
        nextAttemptAt: at + wait,
      });
      await deps.queue.enqueue(message, wait);
    },
  };
}
