import { remainingMs } from '../core/abort';
import { AppError, ConflictError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';
import { type GraphFactory, type MailboxGraph } from '../graph/client';
import { type FolderReference, type FolderResolver } from '../graph/folder-resolver';
import { type ActedMessage, type MessageChange, runAction } from '../graph/message-actions';
import { type IdempotencyStore } from './idempotency';
import { chunksOf, messageAction, runChunk } from './message-batch/chunks';
import { type BatchJobs, paceKey, RESERVE_MS } from './message-batch/jobs';
import { type ChunkPace, createChunkPace } from './message-batch/pace';
import {
  type BatchCommand,
  type BatchItemResult,
  type BatchOutcome,
  ID_TYPE,
} from './message-batch/types';

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

export interface MovedMessage {
  /** The message's id after the action: the same id after a move, a new one for a copy. */
  id: string;
  sourceMessageId: string;
  folderId: string;
  /** `immutable`: ids survive moves within the mailbox. */
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
  /**
   * Runs the batch while what is left fits the request's budget at the mailbox's pace; what does
   * not is handed to a queued job (`accepted`), nothing done twice.
   */
  batch(
    key: CredentialKey,
    command: BatchCommand,
    options: ActionOptions & { idempotency?: { key: string; fingerprint: string } | undefined },
  ): Promise<BatchOutcome>;
}

/** What an Idempotency-Key remembers of a batch: its answer, or the job it became. */
export type StoredBatchOutcome =
  Extract<BatchOutcome, { kind: 'done' }> | { kind: 'accepted'; jobId: string };

/** Graph's own DELETE soft-deletes into Recoverable Items (FACTS §11); Outlook's delete is a move. */
const DELETED_ITEMS: FolderReference = { kind: 'wellKnown', name: 'deleteditems' };

export function createMessageActions(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  folders: FolderResolver;
  idempotency?: IdempotencyStore<StoredBatchOutcome>;
  /** Without jobs (no storage) a batch always runs within the request. */
  jobs?: BatchJobs;
  pace?: ChunkPace;
}): MessageActions {
  const open = (key: CredentialKey, options: ActionOptions): Promise<MailboxGraph> =>
    deps.graph.forCredential(key, { ...options, writes: true });
  const pace = deps.pace ?? createChunkPace();

  async function runMany(
    graph: MailboxGraph,
    key: CredentialKey,
    command: BatchCommand,
    options: ActionOptions,
  ): Promise<BatchOutcome> {
    const destination =
      command.action === 'delete'
        ? await deps.folders.resolve(graph, key, DELETED_ITEMS)
        : command.destination
          ? await deps.folders.resolve(graph, key, command.destination)
          : undefined;
    const action = messageAction(command.action, command.categories, destination?.id);
    const chunks = chunksOf(command.messageIds);
    const mailbox = paceKey(key, options.mailbox);
    const done: BatchItemResult[][] = [];
    for (const ids of chunks) {
      const left = chunks.length - done.length;
      if (
        deps.jobs &&
        left * pace.estimateMs(mailbox) + RESERVE_MS > remainingMs(options.abortSignal)
      ) {
        const job = await deps.jobs.create(
          key,
          {
            mailbox: options.mailbox,
            action: command.action,
            destinationId: destination?.id,
            categories: command.categories,
            chunks: chunks.map((chunkIds, index) => ({
              ids: chunkIds,
              ...(done[index] ? { results: done[index] } : {}),
            })),
          },
          options,
        );
        return { kind: 'accepted', job };
      }
      const startedAt = Date.now();
      done.push(await runChunk(graph, action, ids, options));
      pace.record(mailbox, Date.now() - startedAt);
    }
    const results = done.flat();
    const succeeded = results.filter((r) => r.status === 'done').length;
    return {
      kind: 'done',
      result: {
        action: command.action,
        done: succeeded,
        failed: results.length - succeeded,
        results,
        idType: ID_TYPE,
      },
    };
  }

  async function replay(key: CredentialKey, stored: StoredBatchOutcome): Promise<BatchOutcome> {
    if (stored.kind === 'done') return stored;
    if (!deps.jobs) throw new AppError('internal', 'A batch job needs the job store.');
    return { kind: 'accepted', job: await deps.jobs.status(key, stored.jobId) };
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
      if (begun.kind === 'replay') return replay(key, begun.value);
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
      let outcome: BatchOutcome;
      try {
        outcome = await runMany(graph, key, command, options);
      } catch (error) {
        await begun.claim.release().catch((e: unknown) => {
          options.log.warn('could not release an idempotency key', { error: e });
        });
        throw error;
      }
      const stored: StoredBatchOutcome =
        outcome.kind === 'done' ? outcome : { kind: 'accepted', jobId: outcome.job.jobId };
      await begun.claim.complete(stored).catch((error: unknown) => {
        options.log.error('could not record a batch outcome for its idempotency key', { error });
      });
      return outcome;
    },
  };
}
