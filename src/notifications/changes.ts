import { isErrorOf } from '../core/errors';
import * as z from 'zod';

import { type CredentialKey } from '../credentials/types';
import { budgetSignal } from '../core/abort';
import { type CursorCodec } from '../graph/cursor';
import { type GraphFactory } from '../graph/client';
import { deltaPage, DeltaResyncRequiredError } from '../graph/subscriptions';
import { type Logger } from '../core/logger';
import {
  arrivalsSince,
  changeEventId,
  DEFAULT_EVENT_FIELDS,
  type EventType,
  receivedAt,
} from './events';
import { eventData, type FolderSync } from './sync';

/** What a `changes` cursor carries: Graph's next or delta link, the folder, and its start time. */
export const changesCursorSchema = z.strictObject({
  link: z.string().min(1).max(6000),
  folderId: z.string().min(1).max(512),
  since: z.number().int().nonnegative(),
});
export type ChangesCursorState = z.output<typeof changesCursorSchema>;

export interface PolledEvent {
  /** Stable per change, like `webhook-id`: a poller drops repeats by it. */
  id: string;
  type: EventType;
  credentialId: string;
  subscriptionId: null;
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface ChangesPage {
  events: PolledEvent[];
  nextCursor: string;
}

export interface ChangesReader {
  /**
   * Without a cursor: no events and a cursor for "from now on" (a delta round read to its end).
   * With one: the changes of one delta page after it. A cursor Graph no longer honours restarts
   * from now with a `subscription.resynced` event.
   */
  poll(
    key: CredentialKey,
    request: { folderId: string; cursor?: string | undefined },
    options: { log: Logger },
  ): Promise<ChangesPage>;
}

const BUDGET_MS = 90_000;

export function createChangesReader(deps: {
  graph: GraphFactory<CredentialKey>;
  cursors: CursorCodec<ChangesCursorState>;
  sync: () => FolderSync;
}): ChangesReader {
  return {
    async poll(key, request, { log }) {
      const binding = { serviceId: key.serviceId, credentialId: key.credentialId };
      // The cursor is checked before anything is sent to Graph.
      const state = request.cursor ? await deps.cursors.open(binding, request.cursor) : undefined;
      const folderId = state?.folderId ?? request.folderId;
      const { client, root } = await deps.graph.forCredential(key, {
        abortSignal: budgetSignal(BUDGET_MS),
        log,
      });
      const fresh = async (events: PolledEvent[]) => {
        const since = arrivalsSince();
        const link = await deps.sync().baseline(client, root, folderId);
        return {
          events,
          nextCursor: await deps.cursors.seal(binding, { link, folderId, since }),
        };
      };
      if (!state) return fresh([]);
      let page;
      try {
        page = await deltaPage(client, state.link);
      } catch (error) {
        if (!isErrorOf(error, DeltaResyncRequiredError)) throw error;
        const now = new Date().toISOString();
        return fresh([
          {
            id: `sub_resync_${Date.now()}`,
            type: 'subscription.resynced',
            credentialId: key.credentialId,
            subscriptionId: null,
            occurredAt: now,
            data: { folderId, reason: 'delta_token_expired' },
          },
        ]);
      }
      const occurredAt = new Date().toISOString();
      const events = page.items.map((item): PolledEvent => {
        const change =
          item.kind === 'removed'
            ? 'deleted'
            : receivedAt(item.message) >= state.since
              ? 'created'
              : 'updated';
        const changeKey = item.kind === 'removed' ? null : item.changeKey;
        return {
          id: changeEventId(key, item.id, change, changeKey),
          type: `message.${change}`,
          credentialId: key.credentialId,
          subscriptionId: null,
          occurredAt,
          data:
            item.kind === 'removed'
              ? { id: item.id, folderId }
              : eventData(item.message, DEFAULT_EVENT_FIELDS),
        };
      });
      const link = page.nextLink ?? page.deltaLink ?? state.link;
      return {
        events,
        nextCursor: await deps.cursors.seal(binding, { ...state, link }),
      };
    },
  };
}
