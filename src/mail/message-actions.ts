import { type CredentialKey } from '../credentials/types';
import { AppError, ConflictError, type ErrorCode, isAppError } from '../core/errors';
import { runBatch } from '../graph/batch';
import { type GraphFactory, type MailboxGraph } from '../graph/client';
import { toGraphError } from '../graph/errors';
import { type FolderReference, type FolderResolver } from '../graph/folder-resolver';
import {
  type ActedMessage,
  actedMessage,
  actionRequest,
  type MessageAction,
  type MessageChange,
  runAction,
} from '../graph/message-actions';
import { GRAPH_ID } from '../graph/messages';
import { type Logger } from '../core/logger';
import { type IdempotencyStore } from './idempotency';

/**
 * What callers do with mail they read: mark, flag, categorise, move, copy and delete one message
 * or up to 1,000 at once. Every request asks Graph for immutable ids, so a moved message keeps
 * its id; a copy is a new message with a new id.
 */

export interface ActionOptions {
  /** A shared mailbox (UPN) instead of the credential's own. */
  mailbox?: string | undefined;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

/** Ids are immutable: Graph is asked for `IdType="ImmutableId"` on every request. */
export const ID_TYPE = 'immutable' as const;

export interface MovedMessage {
  /** The message's id after the action: the same id after a move, a new one for a copy. */
  id: string;
  sourceMessageId: string;
  folderId: string;
  /** `immutable`: ids survive moves within the mailbox. */
  idType: typeof ID_TYPE;
}

export type BatchActionName =
  'markRead' | 'markUnread' | 'move' | 'copy' | 'delete' | 'flag' | 'unflag' | 'categorize';

export interface BatchCommand {
  action: BatchActionName;
  messageIds: string[];
  destination?: FolderReference | undefined;
  categories?: string[] | undefined;
}

export interface BatchItemResult {
  messageId: string;
  status: 'done' | 'failed';
  newMessageId?: string;
  error?: { code: ErrorCode; message: string };
}

export interface BatchResult {
  action: BatchActionName;
  done: number;
  failed: number;
  /** In the order the ids were given. */
  results: BatchItemResult[];
  idType: typeof ID_TYPE;
}

export interface MessageActions {
  update(
    key: CredentialKey,
    messageId: string,
    change: MessageChange,
    options: ActionOptions,
  ): Promise<ActedMessage>;
  move(
    key: CredentialKey,
    messageId: string,
    destination: FolderReference,
    options: ActionOptions & { copy: boolean },
  ): Promise<MovedMessage>;
  /** To Deleted Items (as Outlook deletes), or into the dumpster's purges with `permanent`. */
  delete(
    key: CredentialKey,
    messageId: string,
    options: ActionOptions & { permanent: boolean },
  ): Promise<void>;
  batch(
    key: CredentialKey,
    command: BatchCommand,
    options: ActionOptions & { idempotency?: { key: string; fingerprint: string } | undefined },
  ): Promise<BatchResult>;
}

/** Graph's own DELETE soft-deletes into Recoverable Items (FACTS §11); Outlook's delete is a move. */
const DELETED_ITEMS: FolderReference = { kind: 'wellKnown', name: 'deleteditems' };

function batchAction(command: BatchCommand, destinationId: string | undefined): MessageAction {
  switch (command.action) {
    case 'markRead':
      return { kind: 'update', change: { isRead: true } };
    case 'markUnread':
      return { kind: 'update', change: { isRead: false } };
    case 'flag':
      return { kind: 'update', change: { flag: { flagStatus: 'flagged' } } };
    case 'unflag':
      return { kind: 'update', change: { flag: { flagStatus: 'notFlagged' } } };
    case 'categorize':
      return { kind: 'update', change: { categories: command.categories ?? [] } };
    case 'move':
    case 'copy':
    case 'delete':
      return {
        kind: command.action === 'copy' ? 'copy' : 'move',
        destinationId: destinationId!,
      };
  }
}

function failure(error: unknown): { code: ErrorCode; message: string } {
  const known: AppError = isAppError(error)
    ? error
    : new AppError('internal', 'The action failed unexpectedly.');
  return { code: known.code, message: known.detail };
}

export function createMessageActions(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  folders: FolderResolver;
  idempotency?: IdempotencyStore<BatchResult>;
}): MessageActions {
  const open = (key: CredentialKey, options: ActionOptions): Promise<MailboxGraph> =>
    deps.graph.forCredential(key, options);

  async function runMany(
    graph: MailboxGraph,
    key: CredentialKey,
    command: BatchCommand,
    options: ActionOptions,
  ): Promise<BatchResult> {
    const destination =
      command.action === 'delete'
        ? await deps.folders.resolve(graph, key, DELETED_ITEMS)
        : command.destination
          ? await deps.folders.resolve(graph, key, command.destination)
          : undefined;
    const action = batchAction(command, destination?.id);
    const results: BatchItemResult[] = command.messageIds.map((messageId) => ({
      messageId,
      status: 'failed',
      error: { code: 'graph_error', message: 'Microsoft Graph did not answer for this message.' },
    }));
    const requests = command.messageIds.flatMap((messageId, index) => {
      // A malformed id fails alone, without a Graph call.
      if (!GRAPH_ID.test(messageId)) {
        results[index]!.error = { code: 'validation_failed', message: 'is not a Graph message id' };
        return [];
      }
      const { method, url, body } = actionRequest(graph.root, messageId, action);
      return [{ id: String(index), method, url, ...(body === undefined ? {} : { body }) }];
    });
    const answers = await runBatch(graph.client, requests, { ...options, whenOutOfTime: 'answer' });
    for (const [id, answer] of answers) {
      const index = Number(id);
      const messageId = command.messageIds[index]!;
      if (answer.status >= 200 && answer.status < 300) {
        results[index] =
          action.kind === 'copy' || action.kind === 'move'
            ? { messageId, status: 'done', newMessageId: actedMessage(answer.body).id }
            : { messageId, status: 'done' };
      } else {
        const error = toGraphError(
          answer.status,
          new Headers(answer.headers),
          JSON.stringify(answer.body),
        );
        results[index] = { messageId, status: 'failed', error: failure(error) };
      }
    }
    const done = results.filter((r) => r.status === 'done').length;
    return {
      action: command.action,
      done,
      failed: results.length - done,
      results,
      idType: ID_TYPE,
    };
  }

  return {
    async update(key, messageId, change, options) {
      const graph = await open(key, options);
      return (await runAction(graph, messageId, { kind: 'update', change }))!;
    },
    async move(key, messageId, destination, options) {
      const graph = await open(key, options);
      const folder = await deps.folders.resolve(graph, key, destination);
      const kind = options.copy ? 'copy' : 'move';
      const acted = (await runAction(graph, messageId, { kind, destinationId: folder.id }))!;
      return {
        id: acted.id,
        sourceMessageId: messageId,
        folderId: acted.parentFolderId ?? folder.id,
        idType: ID_TYPE,
      };
    },
    async delete(key, messageId, options) {
      const graph = await open(key, options);
      if (options.permanent) {
        await runAction(graph, messageId, { kind: 'permanentDelete' });
        return;
      }
      const folder = await deps.folders.resolve(graph, key, DELETED_ITEMS);
      await runAction(graph, messageId, { kind: 'move', destinationId: folder.id });
    },
    async batch(key, command, options) {
      const graph = await open(key, options);
      const idempotency = options.idempotency;
      if (!idempotency) return runMany(graph, key, command, options);
      if (!deps.idempotency) {
        throw new AppError('internal', 'Idempotency keys need an idempotency store.');
      }
      // Batch keys live beside send keys; the prefix keeps the two from ever meeting.
      const begun = await deps.idempotency.begin(
        key,
        `messages/batch:${idempotency.key}`,
        idempotency.fingerprint,
        options,
      );
      if (begun.kind === 'replay') return begun.value;
      // Every action is safe to repeat but copy: a copy run that died part-way is not run again.
      if (command.action === 'copy') {
        if (begun.takenOver?.committed) {
          await begun.claim.release().catch(() => undefined);
          throw new ConflictError(
            'conflict',
            'An earlier request with this Idempotency-Key stopped while copying; it is not repeated, so no message is copied twice. Check the destination folder.',
          );
        }
        await begun.claim.commit('copy');
      }
      let result: BatchResult;
      try {
        result = await runMany(graph, key, command, options);
      } catch (error) {
        await begun.claim.release().catch((e: unknown) => {
          options.log.warn('could not release an idempotency key', { error: e });
        });
        throw error;
      }
      await begun.claim.complete(result).catch((error: unknown) => {
        options.log.error('could not record a batch result for its idempotency key', { error });
      });
      return result;
    },
  };
}
