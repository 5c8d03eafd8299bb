import { NotFoundError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory, type MailboxGraph } from '../../graph/client';
import { getMessageRef } from '../../graph/drafts';
import { findBySendId, type MessageRef } from '../../graph/send';
import { type SendRecord, type SendRecordChange, type SendRecordStore } from './records';

/**
 * `GET …/sends/{sendId}`: what became of a send. The Sent Items copy of a message "may take time"
 * to appear after Graph's 202, so its ids are found here, later: one Graph request per call at
 * most, looking only at messages sent in a window around the send (never all of Sent Items), and
 * remembered once found, so the next call costs none.
 */

/** Sent Items is searched for messages sent from this long before the send (clock skew)… */
export const LOOKUP_BEFORE_MS = 5 * 60_000;
/** …to this long after it; a copy not found by then is not looked for again. */
export const LOOKUP_AFTER_MS = 60 * 60_000;

/** The send's copy in Sent Items, found by its send id among messages sent in the window. */
export function findSentCopy(graph: MailboxGraph, record: SendRecord): Promise<MessageRef | null> {
  return findBySendId(graph, 'sentitems', record.sendId, {
    from: new Date(record.sentAt - LOOKUP_BEFORE_MS),
    to: new Date(record.sentAt + LOOKUP_AFTER_MS),
  });
}

export interface SendStatus {
  sendId: string;
  /** `unknown`: the send's answer was lost and the message has not been found (yet). */
  status: 'sent' | 'unknown';
  messageId: string | null;
  internetMessageId: string | null;
  sentAt: string;
  savedToSentItems: boolean;
  /**
   * False while the Sent Items copy is still awaited (ask again later); true once the ids are
   * final: known, or null for good (not saved, or no copy within the lookup window).
   */
  resolved: boolean;
  /**
   * `kept`: saved to Sent Items, as asked; `none`: not saved, and Exchange kept no copy; a message
   * sent by draft with saveToSentItems=false gets a copy all the same, `deleting` until a queued
   * job has `deleted` it, or `left` when it could not (the copy may be in Sent Items).
   */
  sentItemsCopy: SentItemsCopy;
}

export type SentItemsCopy = 'kept' | 'none' | 'deleting' | 'deleted' | 'left';

function sentItemsCopy(record: SendRecord): SentItemsCopy {
  if (record.savedToSentItems) return 'kept';
  switch (record.copyDeletion) {
    case undefined:
      return 'none';
    case 'pending':
      return 'deleting';
    default:
      return record.copyDeletion;
  }
}

export interface SendStatusService {
  get(
    credential: CredentialKey,
    sendId: string,
    options: { abortSignal?: AbortSignal | undefined; log: Logger },
  ): Promise<SendStatus>;
}

function toStatus(record: SendRecord): SendStatus {
  return {
    sendId: record.sendId,
    status: record.status,
    messageId: record.messageId,
    internetMessageId: record.internetMessageId,
    sentAt: new Date(record.sentAt).toISOString(),
    savedToSentItems: record.savedToSentItems,
    resolved: record.resolved,
    sentItemsCopy: sentItemsCopy(record),
  };
}

/** The record with the message found: sent, ids known. */
function found(record: SendRecord, ref: MessageRef): SendRecord {
  return {
    ...record,
    status: 'sent',
    messageId: record.savedToSentItems ? ref.id : null,
    internetMessageId: record.savedToSentItems ? ref.internetMessageId : null,
    resolved: !record.savedToSentItems || ref.internetMessageId !== null,
  };
}

/**
 * One lookup of a send not yet resolved: at most one Graph request (Sent Items by the send id,
 * within the sentDateTime window, or the draft by its immutable id). The record as it should now
 * be remembered, or undefined when nothing changed (the copy is not there yet). The single-send
 * route and bulk results both resolve through it.
 */
export async function lookUpSend(
  graph: MailboxGraph,
  record: SendRecord,
  now: number,
): Promise<SendRecord | undefined> {
  const until = record.sentAt + LOOKUP_AFTER_MS;
  let ref: MessageRef | null;
  if (record.via === 'draft' && record.draftId !== undefined) {
    // The draft's immutable id is its Sent Items copy's: no search needed.
    const draft = await getMessageRef(graph, record.draftId);
    ref = draft && !draft.isDraft ? draft : null;
  } else {
    ref = await findSentCopy(graph, record);
  }
  if (ref) return found(record, ref);
  return now > until ? { ...record, resolved: true } : undefined;
}

/**
 * What a lookup found, written over the record as stored: the status and ids are the lookup's
 * fields (the copy's deletion is the sent-copy job's), a resolved record is final, and a send
 * known to be sent stays sent.
 */
export function lookupResult(found: SendRecord): SendRecordChange {
  return (current) =>
    current.resolved
      ? undefined
      : {
          ...current,
          status: current.status === 'sent' ? 'sent' : found.status,
          messageId: found.messageId,
          internetMessageId: found.internetMessageId,
          resolved: found.resolved,
        };
}

export function createSendStatus(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  records: SendRecordStore;
  now?: () => number;
}): SendStatusService {
  const now = deps.now ?? Date.now;
  return {
    async get(credential, sendId, { abortSignal, log }) {
      const record = await deps.records.get(credential, sendId);
      if (!record) throw new NotFoundError(`Send ${sendId}`);
      if (record.resolved) return toStatus(record);
      const graph = await deps.graph.forCredential(credential, {
        abortSignal,
        log,
        ...(record.mailbox === undefined ? {} : { mailbox: record.mailbox }),
      });
      const next = await lookUpSend(graph, record, now());
      if (!next) return toStatus(record);
      // Remembered so the next call costs no Graph request; a failed write only costs one more.
      const stored = await deps.records
        .update(credential, sendId, lookupResult(next))
        .catch((error: unknown) => {
          log.warn('could not remember a send lookup', { sendId, error });
          return undefined;
        });
      return toStatus(stored ?? next);
    },
  };
}
