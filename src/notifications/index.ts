import { type AppKeys, type CredentialKey } from '../credentials/types';
import { createBlobLockProvider } from '../credentials/lease';
import { type GraphFactory } from '../graph/client';
import { createCursorCodec } from '../graph/cursor';
import { type FolderReader } from '../graph/folders';
import { type Logger } from '../core/logger';
import { requireStorage, type StorageClients } from '../storage';
import { changesCursorSchema, type ChangesReader, createChangesReader } from './changes';
import { createDeliveryWorker, DEFAULT_DELIVERY_SETTINGS, type DeliverySettings } from './delivery';
import { createFanout } from './fanout';
import { createNotificationIntake, type NotificationIntake } from './intake';
import {
  CHANGES_QUEUE,
  type ChangesMessage,
  changesMessageSchema,
  createNotifyQueue,
  DELIVERIES_QUEUE,
  type DeliveryMessage,
  deliveryMessageSchema,
} from './queue';
import { createSubscriptionService, type SubscriptionService } from './service';
import { createNotificationStore, partitionOf } from './store';
import { createFolderSync } from './sync';
import { createFolderWatches, type FolderWatches } from './watches';
import { createWebhookFetch, type WebhookNetworkOptions } from './webhook-fetch';

export { CHANGES_QUEUE, DELIVERIES_QUEUE } from './queue';
export type { DeliverySettings } from './delivery';
export type { WebhookNetworkOptions } from './webhook-fetch';

/** A folder busy with another delta run is tried again this much later. */
const BUSY_RETRY_MS = 2000;
const CHANGES_CURSOR_TTL_MS = 7 * 24 * 3600_000;

export interface Notifications {
  subscriptions: SubscriptionService;
  intake: NotificationIntake;
  changes: ChangesReader;
  watches: FolderWatches;
  /** Queue handlers (the message is validated first: a malformed one is dropped with a warning). */
  handleChange(message: unknown, options: { log: Logger }): Promise<void>;
  handleDelivery(message: unknown, options: { log: Logger }): Promise<void>;
}

export interface NotificationDependencies {
  storage: StorageClients | undefined;
  graph: GraphFactory<CredentialKey>;
  folders: FolderReader;
  appKeys: AppKeys;
  /** How deliveries reach webhooks: internal addresses refused unless allowed (dev). */
  webhooks: WebhookNetworkOptions;
  /** `{PUBLIC_BASE_URL}/api/graph/notifications` and `…/lifecycle`. */
  publicBaseUrl: string;
  delivery?: Partial<DeliverySettings>;
  log: Logger;
}

/**
 * New-mail triggers: caller subscriptions over one Graph subscription per (credential, folder),
 * changes read with delta, events delivered signed (Standard Webhooks) at least once.
 */
export function createNotifications(deps: NotificationDependencies): () => Notifications {
  let built: Notifications | undefined;
  return () => {
    if (built) return built;
    const storage = requireStorage(deps.storage, 'New-mail triggers');
    const store = createNotificationStore((name) => storage.table(name));
    const changesQueue = createNotifyQueue<ChangesMessage>(() => storage.queue(CHANGES_QUEUE));
    const deliveryQueue = createNotifyQueue<DeliveryMessage>(() => storage.queue(DELIVERIES_QUEUE));
    const fanout = createFanout({ store, deliveries: deliveryQueue });
    const locks = createBlobLockProvider(storage, deps.log);
    const watches = createFolderWatches({
      graph: deps.graph,
      store,
      fanout,
      sync: () => sync,
      changes: changesQueue,
      urls: {
        notificationUrl: `${deps.publicBaseUrl}/api/graph/notifications`,
        lifecycleNotificationUrl: `${deps.publicBaseUrl}/api/graph/lifecycle`,
      },
    });
    const sync = createFolderSync({
      graph: deps.graph,
      store,
      fanout,
      locks,
      pause: (key, folderId, reason) => watches.pause(key, folderId, reason),
    });
    const subscriptions = createSubscriptionService({
      graph: deps.graph,
      folders: deps.folders,
      store,
      watches,
      deliveries: deliveryQueue,
      appKeys: deps.appKeys,
    });
    const worker = createDeliveryWorker({
      store,
      queue: deliveryQueue,
      secretOf: (sub) => subscriptions.secretOf(sub),
      subscription: (d) =>
        store.getSubscription(
          { serviceId: d.serviceId, credentialId: d.credentialId },
          d.subscriptionId,
        ),
      disable: (sub, reason) => subscriptions.disable(sub, reason),
      settings: { ...DEFAULT_DELIVERY_SETTINGS, ...deps.delivery },
      fetch: createWebhookFetch(deps.webhooks),
    });
    const changes = createChangesReader({
      graph: deps.graph,
      cursors: createCursorCodec({
        key: () => deps.appKeys.hmacKey('cursor'),
        schema: changesCursorSchema,
        ttlMs: CHANGES_CURSOR_TTL_MS,
      }),
      sync: () => sync,
    });
    built = {
      subscriptions,
      intake: createNotificationIntake({ store, changes: changesQueue }),
      changes,
      watches,
      async handleChange(raw, { log }) {
        const parsed = changesMessageSchema.safeParse(raw);
        if (!parsed.success) return log.warn('dropped a malformed notify-changes message');
        const message = parsed.data;
        if (message.k === 'lifecycle') return watches.lifecycle(message.g, message.e, { log });
        const key = { serviceId: message.s, credentialId: message.c };
        const outcome = await sync.sync(key, message.f, { log, requestedAt: message.t });
        if (outcome === 'busy') await changesQueue.enqueue(message, BUSY_RETRY_MS);
        else if (outcome === 'gone')
          log.info('notification for a folder no longer watched', { partition: partitionOf(key) });
      },
      async handleDelivery(raw, { log }) {
        const parsed = deliveryMessageSchema.safeParse(raw);
        if (!parsed.success) return log.warn('dropped a malformed notify-deliveries message');
        await worker.handle(parsed.data, { log });
      },
    };
    return built;
  };
}
