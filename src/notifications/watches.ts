import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { type CredentialKey } from '../credentials/types';
import { budgetSignal } from '../core/abort';
import { isErrorOf, NotFoundError, ReauthRequiredError } from '../core/errors';
import { type GraphFactory } from '../graph/client';
import { createSubscription, deleteSubscription, renewSubscription } from '../graph/subscriptions';
import { type Logger } from '../core/logger';
import { arrivalsSince, subscriptionEventId } from './events';
import { type Fanout } from './fanout';
import { type ChangesMessage, type NotifyQueue, syncMessage } from './queue';
import { type NotificationStore, type Watch, watchKey } from './store';
import { type FolderSync } from './sync';

/** Renew a Graph subscription once less than this is left (the timer runs every 30 minutes). */
const RENEW_WHEN_LEFT_MS = 24 * 3600_000;
const GRAPH_BUDGET_MS = 60_000;
const MAX_WATCHES_PER_RUN = 5000;

export function clientStateHash(clientState: string): string {
  return createHash('sha256').update(clientState, 'utf8').digest('hex');
}

/** Constant-time comparison of a notification's clientState with the stored hash. */
export function clientStateMatches(clientState: unknown, storedHash: string | undefined): boolean {
  if (typeof clientState !== 'string' || !storedHash || clientState.length > 128) return false;
  const given = Buffer.from(clientStateHash(clientState), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WatchUrls {
  notificationUrl: string;
  lifecycleNotificationUrl: string;
}

export interface FolderWatches {
  /** The watch of a folder, created (baseline delta + Graph subscription) when missing. */
  ensure(key: CredentialKey, folderId: string, options: { log: Logger }): Promise<Watch>;
  /** Ends the watch once no caller subscription uses the folder. */
  releaseIfUnused(key: CredentialKey, folderId: string, options: { log: Logger }): Promise<void>;
  pause(key: CredentialKey, folderId: string, reason: string): Promise<void>;
  /** Lifecycle events: reauthorize, recreate, or catch up with delta. */
  lifecycle(
    graphSubscriptionId: string,
    event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed',
    options: { log: Logger },
  ): Promise<void>;
  /** The timer: renew what expires soon, resume paused watches whose credential works again, catch up. */
  maintain(options: { log: Logger }): Promise<{ renewed: number; resumed: number; swept: number }>;
}

export function createFolderWatches(deps: {
  graph: GraphFactory<CredentialKey>;
  store: NotificationStore;
  fanout: Fanout;
  sync: () => FolderSync;
  changes: NotifyQueue<ChangesMessage>;
  urls: WatchUrls;
}): FolderWatches {
  const { store } = deps;
  const client = (key: CredentialKey, log: Logger) =>
    deps.graph.forCredential(key, { abortSignal: budgetSignal(GRAPH_BUDGET_MS), log });

  /** A new Graph subscription for the watch, with a fresh clientState. */
  async function subscribe(watch: Watch, log: Logger): Promise<Watch> {
    const { client: graph } = await client(watch, log);
    const clientState = randomBytes(32).toString('base64url');
    const created = await createSubscription(graph, {
      root: watch.root,
      folderId: watch.folderId,
      clientState,
      ...deps.urls,
    });
    const next: Watch = {
      ...watch,
      graphSubscriptionId: created.id,
      clientStateHash: clientStateHash(clientState),
      expiresAt: Date.parse(created.expirationDateTime),
      status: 'active',
    };
    await store.linkGraphSubscription(created.id, next);
    return next;
  }

  async function dropGraphSubscription(watch: Watch, log: Logger): Promise<void> {
    if (!watch.graphSubscriptionId) return;
    await store.unlinkGraphSubscription(watch.graphSubscriptionId);
    try {
      const { client: graph } = await client(watch, log);
      await deleteSubscription(graph, watch.graphSubscriptionId);
    } catch (error) {
      // Gone already, or the credential is dead: Graph removes it at its expiry anyway.
      log.warn('could not delete the Graph subscription', { error });
    }
  }

  async function announce(
    watch: Watch,
    type: 'subscription.paused' | 'subscription.resumed',
    reason: string,
  ) {
    const subs = await deps.fanout.subscribers(watch, watch.folderId);
    const paused = type === 'subscription.paused';
    for (const sub of subs)
      await store.setStatus(
        sub,
        sub.subscriptionId,
        paused ? 'paused' : 'active',
        paused ? reason : undefined,
      );
    await deps.fanout.emit(watch, subs, {
      id: subscriptionEventId(watchKey(watch, watch.folderId), type, Date.now()),
      type,
      data: () => ({ folderId: watch.folderId, reason }),
    });
  }

  const catchUp = (watch: Watch) => deps.changes.enqueue(syncMessage(watch));

  const api: FolderWatches = {
    async ensure(key, folderId, { log }) {
      const existing = await store.getWatch(key, folderId);
      if (existing) return existing;
      const { client: graph, root } = await client(key, log);
      const since = arrivalsSince();
      const deltaLink = await deps.sync().baseline(graph, root, folderId);
      const watch = await subscribe(
        {
          ...key,
          folderId,
          root,
          graphSubscriptionId: undefined,
          clientStateHash: undefined,
          expiresAt: 0,
          deltaLink,
          status: 'active',
          since,
          lastRunStart: since,
        },
        log,
      );
      if (await store.saveWatch(watch)) return watch;
      // Another caller created it at the same moment: keep theirs, drop ours.
      await dropGraphSubscription(watch, log);
      const theirs = await store.getWatch(key, folderId);
      if (!theirs) throw new NotFoundError('The folder watch');
      return theirs;
    },

    async releaseIfUnused(key, folderId, { log }) {
      if ((await deps.fanout.subscribers(key, folderId)).length > 0) return;
      const watch = await store.getWatch(key, folderId);
      if (!watch) return;
      await dropGraphSubscription(watch, log);
      await store.deleteWatch(watch);
    },

    async pause(key, folderId, reason) {
      const watch = await store.getWatch(key, folderId);
      if (!watch || watch.status === 'paused') return;
      if (!(await store.saveWatch({ ...watch, status: 'paused' }))) return;
      await announce(watch, 'subscription.paused', reason);
    },

    async lifecycle(graphSubscriptionId, event, { log }) {
      const watch = await store.watchOfGraphSubscription(graphSubscriptionId);
      if (!watch) return;
      if (event === 'missed') return catchUp(watch);
      try {
        if (event === 'reauthorizationRequired') {
          const { client: graph } = await client(watch, log);
          const renewed = await renewSubscription(graph, graphSubscriptionId);
          await store.saveWatch({ ...watch, expiresAt: Date.parse(renewed.expirationDateTime) });
        } else {
          await store.unlinkGraphSubscription(graphSubscriptionId);
          await store.saveWatch(await subscribe(watch, log));
        }
      } catch (error) {
        if (!isErrorOf(error, ReauthRequiredError)) throw error;
        await api.pause(watch, watch.folderId, 'credential_reauth_required');
        return;
      }
      // Changes between removal (or a paused delivery) and now come from delta.
      await catchUp(watch);
    },

    async maintain({ log }) {
      let renewed = 0;
      let resumed = 0;
      let swept = 0;
      for (const watch of await store.allWatches(MAX_WATCHES_PER_RUN)) {
        try {
          if (watch.status === 'paused') {
            // Resumes once the credential works again (reconnected): a new subscription, then
            // a catch-up of everything that arrived meanwhile.
            await dropGraphSubscription(watch, log);
            const fresh = await subscribe(watch, log);
            if (await store.saveWatch(fresh)) {
              await announce(fresh, 'subscription.resumed', 'credential_reconnected');
              resumed++;
            }
          } else if (watch.expiresAt - Date.now() < RENEW_WHEN_LEFT_MS) {
            const { client: graph } = await client(watch, log);
            try {
              const next = await renewSubscription(graph, watch.graphSubscriptionId ?? '');
              await store.saveWatch({ ...watch, expiresAt: Date.parse(next.expirationDateTime) });
            } catch (error) {
              if (!isErrorOf(error, NotFoundError)) throw error;
              // Expired or removed at Graph: a new one.
              await store.unlinkGraphSubscription(watch.graphSubscriptionId ?? '');
              await store.saveWatch(await subscribe(watch, log));
            }
            renewed++;
          }
          // A catch-up run on every watch: a notification Graph dropped silently is found here.
          await catchUp(watch);
          swept++;
        } catch (error) {
          if (isErrorOf(error, ReauthRequiredError))
            await api.pause(watch, watch.folderId, 'credential_reauth_required');
          else log.warn('folder watch maintenance failed', { error, folderId: watch.folderId });
        }
      }
      return { renewed, resumed, swept };
    },
  };
  return api;
}
