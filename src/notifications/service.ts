import { randomBytes } from 'node:crypto';

import { open, seal } from '../credentials/envelope';
import { type AppKeys, type CredentialKey } from '../credentials/types';
import { budgetSignal } from '../core/abort';
import { ConflictError, isErrorOf, NotFoundError, ValidationError } from '../core/errors';
import { type GraphFactory } from '../graph/client';
import { type FolderReader } from '../graph/folders';
import { folderIdOf } from '../graph/subscriptions';
import { type Logger } from '../core/logger';
import { DEFAULT_EVENT_FIELDS } from './events';
import { MAX_SUBSCRIPTIONS_PER_CREDENTIAL } from './fanout';
import { type DeliveryMessage, type NotifyQueue } from './queue';
import { newSigningSecret } from './signing';
import { type CallerSubscription, type Delivery, type NotificationStore } from './store';
import { type SubscriptionRequest } from './subscription-request';
import {
  deliveryView,
  type DeliveryView,
  STATUS_FILTER,
  type SubscriptionView,
  toView,
} from './views';
import { type FolderWatches } from './watches';

export { subscriptionRequestSchema, type SubscriptionRequest } from './subscription-request';
export { toView, type DeliveryView, type SubscriptionView } from './views';

export const MAX_SUBSCRIPTIONS_PER_SERVICE = 500;
const SECRET_PURPOSE = 'webhook-secret';
const GRAPH_BUDGET_MS = 60_000;

export interface SubscriptionService {
  create(
    key: CredentialKey,
    request: SubscriptionRequest,
    options: { log: Logger },
  ): Promise<SubscriptionView & { signingSecret: string }>;
  list(key: CredentialKey): Promise<SubscriptionView[]>;
  get(key: CredentialKey, subscriptionId: string): Promise<SubscriptionView>;
  remove(key: CredentialKey, subscriptionId: string, options: { log: Logger }): Promise<void>;
  rotateSecret(
    key: CredentialKey,
    subscriptionId: string,
  ): Promise<SubscriptionView & { signingSecret: string }>;
  deliveries(
    key: CredentialKey,
    subscriptionId: string,
    filter: { status: 'failed' | 'pending' | 'delivered' | 'all'; top: number },
  ): Promise<DeliveryView[]>;
  retry(key: CredentialKey, subscriptionId: string, deliveryId: string): Promise<DeliveryView>;
  /** A folder id, well-known name or path → the folder's id (400 naming `folder` if none). */
  resolveFolder(key: CredentialKey, folder: string, options: { log: Logger }): Promise<string>;
  /** The signing secret, opened (delivery worker). */
  secretOf(sub: CallerSubscription): Promise<string>;
  disable(sub: CallerSubscription, reason: string): Promise<void>;
}

export function createSubscriptionService(deps: {
  graph: GraphFactory<CredentialKey>;
  folders: FolderReader;
  store: NotificationStore;
  watches: FolderWatches;
  deliveries: NotifyQueue<DeliveryMessage>;
  appKeys: AppKeys;
}): SubscriptionService {
  const { store } = deps;
  const aad = (sub: Pick<CallerSubscription, 'serviceId' | 'credentialId' | 'subscriptionId'>) =>
    `webhook-secret\n${sub.serviceId}\n${sub.credentialId}\n${sub.subscriptionId}`;
  const sealSecret = async (sub: Parameters<typeof aad>[0], secret: string) => {
    const key = await deps.appKeys.sealingKey(SECRET_PURPOSE);
    if (!key) throw new Error('no data key');
    return seal(secret, aad(sub), key);
  };
  const find = async (key: CredentialKey, id: string) => {
    const sub = await store.getSubscription(key, id);
    if (!sub) throw new NotFoundError(`Subscription ${id}`);
    return sub;
  };

  /** A folder id, well-known name or path (`Inbox/Projects`) → the folder's id. */
  async function resolveFolder(key: CredentialKey, folder: string, log: Logger): Promise<string> {
    const abortSignal = budgetSignal(GRAPH_BUDGET_MS);
    if (folder.includes('/') && !/^[A-Za-z0-9_=+-]+$/.test(folder.replace(/\//g, ''))) {
      return pathToId(key, folder, log);
    }
    const { client, root } = await deps.graph.forCredential(key, { abortSignal, log });
    try {
      return await folderIdOf(client, root, folder);
    } catch (error) {
      if (!isErrorOf(error, NotFoundError) || !folder.includes('/')) {
        if (isErrorOf(error, NotFoundError))
          throw new ValidationError({ path: 'folder', message: 'is not a folder of this mailbox' });
        throw error;
      }
      return pathToId(key, folder, log);
    }
  }

  async function pathToId(key: CredentialKey, path: string, log: Logger): Promise<string> {
    const all = await deps.folders.list(key, {
      recursive: true,
      includeHidden: false,
      abortSignal: budgetSignal(GRAPH_BUDGET_MS),
      log,
    });
    const match = all.find((f) => f.path.toLowerCase() === path.toLowerCase());
    if (!match)
      throw new ValidationError({ path: 'folder', message: 'is not a folder of this mailbox' });
    return match.id;
  }

  const api: SubscriptionService = {
    async create(key, request, { log }) {
      const existing = await store.listSubscriptions(key, MAX_SUBSCRIPTIONS_PER_CREDENTIAL);
      if (existing.length >= MAX_SUBSCRIPTIONS_PER_CREDENTIAL)
        throw new ConflictError(
          'conflict',
          `A credential may have at most ${MAX_SUBSCRIPTIONS_PER_CREDENTIAL} subscriptions.`,
        );
      if (
        (await store.countForService(key.serviceId, MAX_SUBSCRIPTIONS_PER_SERVICE)) >=
        MAX_SUBSCRIPTIONS_PER_SERVICE
      )
        throw new ConflictError(
          'conflict',
          `A service may have at most ${MAX_SUBSCRIPTIONS_PER_SERVICE} subscriptions.`,
        );
      const folderId = await resolveFolder(key, request.folder, log);
      await deps.watches.ensure(key, folderId, { log });
      const subscriptionId = `sub_${randomBytes(12).toString('base64url')}`;
      const signingSecret = newSigningSecret();
      const ids = { ...key, subscriptionId };
      const sub: CallerSubscription = {
        ...ids,
        folderId,
        folder: request.folder,
        events: [...new Set(request.events)],
        webhookUrl: request.webhookUrl,
        fields: [...new Set(['id' as const, ...(request.fields ?? DEFAULT_EVENT_FIELDS)])],
        sealedSecret: await sealSecret(ids, signingSecret),
        status: 'active',
        reason: undefined,
        createdAt: new Date().toISOString(),
      };
      await store.putSubscription(sub);
      return { ...toView(sub), signingSecret };
    },
    async list(key) {
      return (await store.listSubscriptions(key, MAX_SUBSCRIPTIONS_PER_CREDENTIAL)).map(toView);
    },
    async get(key, id) {
      return toView(await find(key, id));
    },
    async remove(key, id, { log }) {
      const sub = await find(key, id);
      await store.deleteSubscription(key, id);
      await deps.watches.releaseIfUnused(key, sub.folderId, { log });
    },
    async rotateSecret(key, id) {
      const sub = await find(key, id);
      const signingSecret = newSigningSecret();
      const next = { ...sub, sealedSecret: await sealSecret(sub, signingSecret) };
      // The secret alone: a delivery disabling the subscription meanwhile keeps it disabled.
      if (!(await store.setSecret(key, id, next.sealedSecret)))
        throw new NotFoundError(`Subscription ${id}`);
      return { ...toView(next), signingSecret };
    },
    async deliveries(key, id, filter) {
      await find(key, id);
      return (await store.listDeliveries(id, STATUS_FILTER[filter.status], filter.top)).map(
        deliveryView,
      );
    },
    async retry(key, id, deliveryId) {
      const sub = await find(key, id);
      const delivery = await store.getDelivery(id, deliveryId);
      if (!delivery) throw new NotFoundError(`Delivery ${deliveryId}`);
      if (sub.status === 'disabled')
        throw new ConflictError('conflict', 'The subscription is disabled; create a new one.');
      // A redelivery gets a fresh retry window.
      const next: Delivery = {
        ...delivery,
        status: 'pending',
        createdAt: Date.now(),
        nextAttemptAt: undefined,
      };
      await store.updateDelivery(next);
      await deps.deliveries.enqueue({ v: 1, k: 'deliver', sub: id, d: deliveryId });
      return deliveryView(next);
    },
    resolveFolder: (key, folder, { log }) => resolveFolder(key, folder, log),
    async secretOf(sub) {
      return open(sub.sealedSecret, aad(sub), (kid) =>
        deps.appKeys.sealingKey(SECRET_PURPOSE, kid),
      );
    },
    async disable(sub, reason) {
      await store.setStatus(sub, sub.subscriptionId, 'disabled', reason);
    },
  };
  return api;
}
