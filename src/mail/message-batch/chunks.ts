import { AppError, isAppError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { MAX_BATCH_REQUESTS, runBatch } from '../../graph/batch';
import { type MailboxGraph } from '../../graph/client';
import { toGraphError } from '../../graph/errors';
import { actedMessage, actionRequest, type MessageAction } from '../../graph/message-actions';
import { GRAPH_ID } from '../../graph/messages';
import { type BatchActionName, type BatchItemResult, type ItemError } from './types';

/**
 * A batch runs in chunks of 20 messages, one Graph `$batch` each: chunk `k` holds the ids given at
 * positions 20k…20k+19. A request that runs out of time hands the chunks not yet run to a queued
 * job, which runs them the same way.
 */
export const CHUNK_SIZE = MAX_BATCH_REQUESTS;

export function chunksOf<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += CHUNK_SIZE)
    chunks.push(items.slice(start, start + CHUNK_SIZE));
  return chunks;
}

/** The Graph action behind a batch action; move, copy and delete need the destination's id. */
export function messageAction(
  action: BatchActionName,
  categories: string[] | undefined,
  destinationId: string | undefined,
): MessageAction {
  switch (action) {
    case 'markRead':
      return { kind: 'update', change: { isRead: true } };
    case 'markUnread':
      return { kind: 'update', change: { isRead: false } };
    case 'flag':
      return { kind: 'update', change: { flag: { flagStatus: 'flagged' } } };
    case 'unflag':
      return { kind: 'update', change: { flag: { flagStatus: 'notFlagged' } } };
    case 'categorize':
      return { kind: 'update', change: { categories: categories ?? [] } };
    case 'move':
    case 'copy':
    case 'delete':
      return { kind: action === 'copy' ? 'copy' : 'move', destinationId: destinationId! };
  }
}

/** Stored results carry a short reason: Graph's messages can be long, a job row is not. */
const MAX_REASON = 300;

export function itemError(error: unknown): ItemError {
  const known: AppError = isAppError(error)
    ? error
    : new AppError('internal', 'The action failed unexpectedly.');
  return { code: known.code, message: known.detail.slice(0, MAX_REASON) };
}

/**
 * Runs one chunk: a malformed id fails alone without a Graph call, the others go in one `$batch`
 * (throttled items again after Retry-After while the budget lasts). Results in the chunk's order.
 */
export async function runChunk(
  graph: MailboxGraph,
  action: MessageAction,
  messageIds: readonly string[],
  options: { abortSignal?: AbortSignal | undefined; log: Logger },
): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = messageIds.map((messageId) => ({
    messageId,
    status: 'failed',
    error: { code: 'graph_error', message: 'Microsoft Graph did not answer for this message.' },
  }));
  const requests = messageIds.flatMap((messageId, index) => {
    if (!GRAPH_ID.test(messageId)) {
      results[index]!.error = { code: 'validation_failed', message: 'is not a Graph message id' };
      return [];
    }
    const { method, url, body } = actionRequest(graph.root, messageId, action);
    return [{ id: String(index), method, url, ...(body === undefined ? {} : { body }) }];
  });
  if (requests.length === 0) return results;
  const answers = await runBatch(graph.client, requests, { ...options, whenOutOfTime: 'answer' });
  for (const [id, answer] of answers) {
    const index = Number(id);
    const messageId = messageIds[index]!;
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
      results[index] = { messageId, status: 'failed', error: itemError(error) };
    }
  }
  return results;
}
