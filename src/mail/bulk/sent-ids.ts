import { budgetSignal } from '../../core/abort';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory, type MailboxGraph } from '../../graph/client';
import { type SendResult } from '../send-types';
import { type SendRecord } from '../send/records';
import { lookUpSend } from '../send/status';
import { type BulkStore, type RecipientRow, type SentRow } from './store';

/**
 * Message ids of sent bulk rows. Graph answers a send before its Sent Items copy exists ("may take
 * time"), so a row is recorded `sent` with what the answer knew (a message sent by draft: its
 * immutable id) and the rest is found when results are read, as `GET …/sends/{sendId}` finds a
 * single send's: the same lookup (`lookUpSend`: one Graph request, within the send's sentDateTime
 * window). Lazily, at read time, because most rows are never read one by one and a worker that
 * waited for copies would hold the mailbox's send slots; bounded, at most
 * MAX_ID_LOOKUPS_PER_READ lookups per read (the page's first rows still awaiting ids) within
 * LOOKUP_BUDGET_MS; and remembered in the row, so a row's ids cost one found lookup, ever.
 */

/** Graph requests one read of a job's results may make (its page's rows, in order). */
export const MAX_ID_LOOKUPS_PER_READ = 10;
/** What the lookups of one read may take together; rows left over wait for the next read. */
export const LOOKUP_BUDGET_MS = 5000;

/** What a sent row records of its send's answer. */
export function sentRow(result: SendResult): SentRow {
  return {
    sendId: result.sendId,
    sentAt: Date.parse(result.sentAt),
    messageId: result.messageId,
    internetMessageId: result.internetMessageId,
    // Bulk messages are saved to Sent Items: their ids are final once both are known.
    resolved: result.messageId !== null && result.internetMessageId !== null,
  };
}

type Pending = RecipientRow & { sendId: string; sentAt: number };

function awaitsIds(row: RecipientRow): row is Pending {
  return (
    row.state === 'sent' && !row.idsResolved && row.sendId !== undefined && row.sentAt !== undefined
  );
}

/**
 * The row as a send record for `lookUpSend`: a send answered with a message id went by draft
 * (the draft's immutable id is its copy's), one without by sendMail, found by its send id.
 */
function asSendRecord(row: Pending): SendRecord {
  return {
    sendId: row.sendId,
    status: 'sent',
    sentAt: row.sentAt,
    via: row.messageId === undefined ? 'sendMail' : 'draft',
    ...(row.messageId === undefined ? {} : { draftId: row.messageId }),
    savedToSentItems: true,
    messageId: row.messageId ?? null,
    internetMessageId: row.internetMessageId ?? null,
    resolved: false,
  };
}

export type SentIdResolver = (
  key: CredentialKey,
  rows: readonly RecipientRow[],
  options: { abortSignal?: AbortSignal | undefined; log: Logger },
) => Promise<RecipientRow[]>;

/** One row's lookup: the row with what its copy told (also recorded), or undefined when not there yet. */
async function lookUpRow(
  graph: MailboxGraph,
  row: Pending,
  context: { store: Pick<BulkStore, 'recordIds'>; now: number; log: Logger },
): Promise<RecipientRow | undefined> {
  const next = await lookUpSend(graph, asSendRecord(row), context.now);
  if (!next) return undefined;
  const ids = {
    messageId: next.messageId,
    internetMessageId: next.internetMessageId,
    resolved: next.resolved,
  };
  // Shown either way; a failed write only costs the next read one more lookup.
  await context.store.recordIds(row, ids).catch((error: unknown) => {
    context.log.warn('could not record the message ids of a bulk row', { index: row.index, error });
  });
  return {
    ...row,
    messageId: ids.messageId ?? undefined,
    internetMessageId: ids.internetMessageId ?? undefined,
    idsResolved: ids.resolved,
  };
}

/**
 * Fills in the ids of the first rows awaiting them. Reading results never fails for it: a failed
 * lookup (a credential to reconnect, Graph unavailable, the budget spent) ends this read's
 * lookups and leaves the rest as they were, for a later read.
 */
export function createSentIdResolver(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  store: Pick<BulkStore, 'recordIds'>;
  now?: () => number;
}): SentIdResolver {
  const now = deps.now ?? Date.now;
  return async (key, rows, { abortSignal, log }) => {
    const pending = rows.filter(awaitsIds).slice(0, MAX_ID_LOOKUPS_PER_READ);
    if (pending.length === 0) return [...rows];
    const signal = budgetSignal(LOOKUP_BUDGET_MS, abortSignal);
    const found = new Map<number, RecipientRow>();
    try {
      const graph = await deps.graph.forCredential(key, { abortSignal: signal, log });
      // One at a time: the mailbox's four concurrent requests are the sends' to use.
      for (const row of pending) {
        signal.throwIfAborted();
        const next = await lookUpRow(graph, row, { store: deps.store, now: now(), log });
        if (next) found.set(row.index, next);
      }
    } catch (error) {
      log.warn('could not look up the message ids of bulk rows', { error });
    }
    return rows.map((row) => found.get(row.index) ?? row);
  };
}
