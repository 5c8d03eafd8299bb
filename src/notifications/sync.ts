import { type CredentialKey } from '../credentials/types';
import { type LockProvider } from '../credentials/lease';
import { budgetSignal } from '../core/abort';
import { isErrorOf, ReauthRequiredError } from '../core/errors';
import { type GraphClient, type GraphFactory } from '../graph/client';
import { toMessageView } from '../graph/messages';
import {
  DELTA_FIELDS,
  type DeltaItem,
  deltaPage,
  DeltaResyncRequiredError,
  deltaStart,
} from '../graph/subscriptions';
import { type Logger } from '../core/logger';
import {
  changeEventId,
  type EventField,
  type MessageEvent,
  subscriptionEventId,
  receivedAt,
} from './events';
import { type Fanout } from './fanout';
import { type CallerSubscription, hashOf, type NotificationStore, watchKey } from './store';

/** A delta round is bounded: a folder with more changes continues in the next run. */
const MAX_PAGES = 200;
/** Seen-message rows read at once when a resync compares the whole folder. */
const MAX_SEEN = 200_000;
const RUN_BUDGET_MS = 4 * 60_000;
const CLOCK_MARGIN_MS = 1000;

export type SyncOutcome = 'done' | 'busy' | 'gone' | 'paused';

export interface FolderSync {
  /**
   * Runs the folder's delta from its stored link, one run at a time per folder (blob lease), and
   * turns every change into events. Dropped, repeated or reordered notifications lose nothing:
   * each run reads everything since the last one. `busy` means another run holds the folder.
   */
  sync(
    key: CredentialKey,
    folderId: string,
    options: { log: Logger; requestedAt?: number | undefined },
  ): Promise<SyncOutcome>;
  /** A delta round read to its end without events: the link from which changes count. */
  baseline(client: GraphClient, root: string, folderId: string): Promise<string>;
}

/** Graph's message → the event's `data`, keeping the subscription's fields. */
export function eventData(
  message: Record<string, unknown>,
  fields: readonly EventField[],
): Record<string, unknown> {
  const view = toMessageView(message, DELTA_FIELDS, false) as unknown as Record<string, unknown>;
  const all: Record<string, unknown> = { ...view, folderId: view.parentFolderId ?? null };
  const out: Record<string, unknown> = { id: view.id };
  for (const field of fields) out[field] = all[field] ?? null;
  return out;
}

interface Classified {
  change: MessageEvent;
  changeKey: string | null;
}

export function createFolderSync(deps: {
  graph: GraphFactory<CredentialKey>;
  store: NotificationStore;
  fanout: Fanout;
  locks: LockProvider;
  /** Pauses the folder's watch (credential needs reconnecting). */
  pause(key: CredentialKey, folderId: string, reason: string): Promise<void>;
}): FolderSync {
  const { store } = deps;

  async function readRound(
    client: GraphClient,
    start: string,
    onPage: (items: DeltaItem[]) => Promise<void>,
  ): Promise<string> {
    let link = start;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await deltaPage(client, link);
      await onPage(result.items);
      if (result.deltaLink) return result.deltaLink;
      if (!result.nextLink) break;
      link = result.nextLink;
    }
    // An unfinished round resumes from its last next link next time.
    return link;
  }

  return {
    baseline: (client, root, folderId) =>
      readRound(client, deltaStart(root, folderId), () => Promise.resolve()),

    async sync(key, folderId, { log, requestedAt }) {
      const wk = watchKey(key, folderId);
      const lock = await deps.locks.tryAcquire(`notify-${hashOf(wk)}`);
      if (!lock) return 'busy';
      try {
        const watch = await store.getWatch(key, folderId);
        if (!watch) return 'gone';
        if (watch.status === 'paused') return 'paused';
        // A run that began after this request arrived has read its change already: notifications
        // of a burst collapse into a few runs. (A second of margin for clocks between instances.)
        if (requestedAt !== undefined && watch.lastRunStart > requestedAt + CLOCK_MARGIN_MS)
          return 'done';
        const runStart = Date.now();
        const abortSignal = budgetSignal(RUN_BUDGET_MS);
        let client: GraphClient;
        try {
          ({ client } = await deps.graph.forCredential(key, { abortSignal, log }));
        } catch (error) {
          if (isErrorOf(error, ReauthRequiredError)) {
            await deps.pause(key, folderId, 'credential_reauth_required');
            return 'paused';
          }
          throw error;
        }
        const subscribers = await deps.fanout.subscribers(key, folderId);
        let resynced = false;
        let seenAll: Map<string, string> | undefined;
        const previous = async (id: string) =>
          seenAll ? seenAll.get(hashOf(id)) : store.seen(wk, id);
        const classify = async (item: DeltaItem): Promise<Classified | undefined> => {
          if (item.kind === 'removed') return { change: 'deleted', changeKey: null };
          const before = await previous(item.id);
          if (before !== undefined) {
            return before === (item.changeKey ?? '')
              ? undefined
              : { change: 'updated', changeKey: item.changeKey };
          }
          const received = receivedAt(item.message);
          if (received >= watch.since) return { change: 'created', changeKey: item.changeKey };
          // Mail from before the watch began: a change to it, never an arrival; a resync
          // compares the whole folder, where unchanged old mail is no event at all.
          return resynced ? undefined : { change: 'updated', changeKey: item.changeKey };
        };
        const onPage = async (items: DeltaItem[]) => {
          for (const item of items) {
            const classified = await classify(item);
            if (!classified) continue;
            const { change, changeKey } = classified;
            await deps.fanout.emit(key, subscribers, {
              id: changeEventId(key, item.id, change, changeKey),
              type: `message.${change}`,
              data: (sub: CallerSubscription) =>
                item.kind === 'removed'
                  ? { id: item.id, folderId }
                  : eventData(item.message, sub.fields),
            });
            if (item.kind === 'removed') await store.forget(wk, item.id);
            else await store.markSeen(wk, item.id, changeKey);
          }
        };
        let deltaLink: string;
        try {
          deltaLink = await readRound(
            client,
            watch.deltaLink ?? deltaStart(watch.root, folderId),
            onPage,
          );
        } catch (error) {
          if (!isErrorOf(error, DeltaResyncRequiredError)) throw error;
          // Graph forgot our sync state: read the folder again, comparing with what was delivered.
          log.warn('delta token expired; resyncing the folder', { folderId });
          resynced = true;
          seenAll = await store.seenAll(wk, MAX_SEEN);
          deltaLink = await readRound(client, deltaStart(watch.root, folderId), onPage);
        }
        const latest = (await store.getWatch(key, folderId)) ?? watch;
        await store.saveWatch({ ...latest, deltaLink, lastRunStart: runStart });
        if (resynced) {
          const at = Date.now();
          await deps.fanout.emit(key, subscribers, {
            id: subscriptionEventId(wk, 'subscription.resynced', at),
            type: 'subscription.resynced',
            data: () => ({ folderId, reason: 'delta_token_expired' }),
          });
        }
        return 'done';
      } finally {
        await lock.release();
      }
    },
  };
}
