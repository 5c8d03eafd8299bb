import { randomUUID } from 'node:crypto';

import { type CredentialKey } from '../credentials/types';
import { createDeadline, type Deadline, sleep } from '../deadline';
import { AppError, ForbiddenError, SendOutcomeUnknownError } from '../errors';
import { type GraphFactory, type MailboxGraph } from '../graph/client';
import { addFileAttachment, createDraft, deleteMessage, getMessageRef } from '../graph/drafts';
import {
  findBySendId,
  type GraphFileAttachment,
  type GraphOutgoingMessage,
  type GraphRecipient,
  isUncertainSendFailure,
  type MessageRef,
  SEND_ID_HEADER,
  sendDraft,
  sendMail,
  sentItemsFolderId,
} from '../graph/send';
import {
  cancelUploadSession,
  createUploadSession,
  UPLOAD_SESSION_MIN_BYTES,
  uploadToSession,
} from '../graph/uploads';
import { type Logger } from '../http/logger';
import { type IdempotencyStore } from './idempotency';
import { checkMessageLimits, MAX_CUSTOM_HEADERS } from './send-limits';
import {
  type AttachmentInput,
  type OutgoingMessage,
  type Recipient,
  type SendOptions,
  type SendResult,
  type SendService,
} from './send-types';

/**
 * Sends mail through Graph, never twice:
 * - a message that fits one request (4 MB, base64 and JSON counted) goes by `sendMail`;
 * - anything bigger is a draft (immutable id) with small files attached inline and large ones
 *   through upload sessions, then `/send`; any failure before `/send` deletes the draft and
 *   cancels open upload sessions (a draft whose create answer was lost is found by its send id);
 * - `/send` always keeps a copy in Sent Items: with `saveToSentItems: false` that copy is deleted
 *   once the message has left (see `deleteSentCopy`);
 * - `sendMail` and `/send` are retried on 429 only. A lost answer (timeout, network error, 5xx)
 *   is resolved by looking the message up (Sent Items by the send id header, or the draft's
 *   immutable id); when it cannot be found the send is reported as outcome unknown, never retried.
 */

/** What an Idempotency-Key remembers: the result, or that the outcome is unknown. */
export type IdempotentSendOutcome =
  { kind: 'sent'; result: SendResult } | { kind: 'unknown'; sendId: string };

const MiB = 1024 * 1024;
/** Graph's 4 MB request limit, less a margin for what Graph may count beyond our JSON. */
export const SINGLE_REQUEST_LIMIT_BYTES = 4 * MiB - 16 * 1024;

export interface ConfirmTimings {
  /** How long to keep looking for a message whose send answer was lost. */
  lostAnswerMs: number;
  /**
   * How long to look for a message that should be there at once: the Sent Items copy after an
   * accepted sendMail (for its ids), a draft whose create answer was lost (to delete it).
   */
  afterSendMs: number;
  /** How long to wait for a sent draft's Sent Items copy to delete it (saveToSentItems=false). */
  unsavedCopyMs: number;
  /** Pause between lookups; doubles each time up to 4 s. */
  firstDelayMs: number;
}

export const DEFAULT_CONFIRM_TIMINGS: ConfirmTimings = {
  lostAnswerMs: 20_000,
  afterSendMs: 3_000,
  unsavedCopyMs: 20_000,
  firstDelayMs: 250,
};

export interface SendServiceDependencies {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential' | 'limiter'>;
  /** Needed only by callers that pass `idempotency`. */
  idempotency?: IdempotencyStore<IdempotentSendOutcome>;
  maxMessageSizeBytes: number;
  /** Used for upload-session PUTs and cancels (never carries our token). */
  fetch?: typeof fetch;
  confirm?: Partial<ConfirmTimings>;
  newSendId?: () => string;
  /** Observes upload progress (the benchmark counts chunks). */
  onUpload?: (event: { name: string; size: number; chunks: number }) => void;
}

function toGraphRecipient(recipient: Recipient): GraphRecipient {
  return {
    emailAddress:
      recipient.name === undefined
        ? { address: recipient.address }
        : { address: recipient.address, name: recipient.name },
  };
}

/**
 * The message as Graph takes it, marked with the send id header when a header slot is free
 * (Graph allows 5); `marked` says whether it was.
 */
export function toGraphMessage(
  message: OutgoingMessage,
  sendId: string,
): { payload: GraphOutgoingMessage; marked: boolean } {
  const headers = Object.entries(message.headers).map(([name, value]) => ({ name, value }));
  const marked = headers.length < MAX_CUSTOM_HEADERS;
  if (marked) headers.push({ name: SEND_ID_HEADER, value: sendId });
  const payload: GraphOutgoingMessage = {
    subject: message.subject,
    body: { contentType: message.contentType === 'html' ? 'HTML' : 'Text', content: message.body },
    toRecipients: message.to.map(toGraphRecipient),
    ccRecipients: message.cc.map(toGraphRecipient),
    bccRecipients: message.bcc.map(toGraphRecipient),
    replyTo: message.replyTo.map(toGraphRecipient),
    importance: message.importance,
    ...(message.from ? { from: toGraphRecipient(message.from) } : {}),
    ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
  };
  return { payload, marked };
}

async function readAll(attachment: AttachmentInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of attachment.open()) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function toFileAttachment(attachment: AttachmentInput): Promise<GraphFileAttachment> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: attachment.name,
    contentType: attachment.contentType,
    contentBytes: (await readAll(attachment)).toString('base64'),
    ...(attachment.isInline ? { isInline: true } : {}),
    ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
  };
}

/** Exact JSON size of a file attachment without reading it: base64 needs no escaping. */
function attachmentJsonBytes(attachment: AttachmentInput): number {
  const shell: GraphFileAttachment = {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: attachment.name,
    contentType: attachment.contentType,
    contentBytes: '',
    ...(attachment.isInline ? { isInline: true } : {}),
    ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
  };
  return Buffer.byteLength(JSON.stringify(shell)) + 4 * Math.ceil(attachment.size / 3) + 1;
}

const isSmall = (a: AttachmentInput) => a.size < UPLOAD_SESSION_MIN_BYTES;

/** Plain language for Graph's ErrorSendAsDenied. */
function explainSendAs(error: unknown, message: OutgoingMessage, mailbox: string): unknown {
  if (!(error instanceof ForbiddenError) || !/ErrorSendAsDenied/i.test(error.message)) return error;
  const as = message.from?.address ?? mailbox;
  return new ForbiddenError(
    `The connected account may not send as or on behalf of ${as}: it needs Send As or Send on Behalf rights on that mailbox (and the Mail.Send.Shared permission).`,
    { cause: error },
  );
}

export function createSendService(deps: SendServiceDependencies): SendService {
  const timings: ConfirmTimings = { ...DEFAULT_CONFIRM_TIMINGS, ...deps.confirm };
  const newSendId = deps.newSendId ?? randomUUID;
  const doFetch = deps.fetch ?? fetch;

  /** Looks until `find` answers or the time is up; lookup errors just mean "not yet". */
  async function lookFor<T>(
    find: () => Promise<T | null>,
    budgetMs: number,
    deadline: Deadline,
    log: Logger,
  ): Promise<T | null> {
    const until = Math.min(Date.now() + budgetMs, deadline.expiresAt - 500);
    let delay = timings.firstDelayMs;
    for (;;) {
      try {
        const found = await find();
        if (found) return found;
      } catch (error) {
        log.warn('send lookup failed', { error });
      }
      if (Date.now() + delay > until) return null;
      await sleep(delay, deadline.signal).catch(() => undefined);
      if (deadline.signal.aborted) return null;
      delay = Math.min(delay * 2, 4000);
    }
  }

  interface Attempt {
    message: OutgoingMessage;
    sendId: string;
    /** Bound to a deadline that leaves time to look up a lost answer. */
    work: MailboxGraph;
    /** Bound to the whole deadline: lookups and cleanup after `work` ran out. */
    lookup: MailboxGraph;
    deadline: Deadline;
    workDeadline: Deadline;
    log: Logger;
    /** Whether the message carries the send id header. */
    marked: boolean;
    /** Called right before the irreversible request. */
    commit: (sendId: string) => Promise<void>;
  }

  function result(sendId: string, ref: MessageRef | null): SendResult {
    return {
      sendId,
      status: 'sent',
      messageId: ref?.id ?? null,
      internetMessageId: ref?.internetMessageId ?? null,
    };
  }

  async function sendSingle(attempt: Attempt, payload: GraphOutgoingMessage): Promise<SendResult> {
    const { message, sendId, work, lookup, deadline, log } = attempt;
    const find = () => findBySendId(lookup, 'sentitems', sendId);
    payload.attachments = await Promise.all(message.attachments.map(toFileAttachment));
    await attempt.commit(sendId);
    try {
      await sendMail(work, payload, message.saveToSentItems);
    } catch (error) {
      if (!isUncertainSendFailure(error)) throw error;
      log.warn('sendMail answer lost; looking for the message in Sent Items', { sendId, error });
      // Without a Sent Items copy there is nothing to look for.
      const found = message.saveToSentItems
        ? await lookFor(find, timings.lostAnswerMs, deadline, log)
        : null;
      if (!found) throw new SendOutcomeUnknownError(sendId, { cause: error });
      return result(sendId, found);
    }
    if (!message.saveToSentItems) return result(sendId, null);
    return result(sendId, await lookFor(find, timings.afterSendMs, deadline, log));
  }

  /** Removes what a failed draft flow left: open upload sessions, then the draft. */
  async function cleanUp(
    attempt: Attempt,
    draftId: string | undefined,
    uploadUrls: Set<string>,
  ): Promise<void> {
    const cleanup = createDeadline(
      Math.max(1000, Math.min(15_000, attempt.deadline.remainingMs())),
    );
    for (const url of uploadUrls) {
      await cancelUploadSession(url, { fetch: doFetch, abortSignal: cleanup.signal }).catch(
        (error: unknown) => attempt.log.warn('could not cancel an upload session', { error }),
      );
    }
    if (draftId === undefined) return;
    await deleteMessage(attempt.lookup, draftId).catch((error: unknown) =>
      attempt.log.error('could not delete the draft of a failed send', { error }),
    );
  }

  /**
   * Creates the draft. When the answer is lost the draft may exist all the same: it is looked up
   * in Drafts by its send id and deleted, so nothing is left behind (an unmarked message, with
   * all 5 header slots taken by the caller, cannot be found).
   */
  async function createMarkedDraft(
    attempt: Attempt,
    payload: GraphOutgoingMessage,
  ): Promise<MessageRef> {
    const { work, lookup, sendId, deadline, log } = attempt;
    try {
      return await createDraft(work, payload);
    } catch (error) {
      if (isUncertainSendFailure(error) && attempt.marked) {
        const find = () => findBySendId(lookup, 'drafts', sendId);
        const orphan = await lookFor(find, timings.afterSendMs, deadline, log);
        if (orphan) await cleanUp(attempt, orphan.id, new Set());
      }
      throw error;
    }
  }

  /**
   * Graph's draft `/send` always keeps a copy in Sent Items, so with saveToSentItems=false the
   * copy is deleted once it is there, found by the draft's immutable id. Only a copy in Sent
   * Items is touched: the message has left by then (one still in the Outbox has not, and deleting
   * it could stop it), so deleting can neither undo nor repeat the send. A copy not found within
   * `unsavedCopyMs` and the deadline stays, with a warning: the mail went all the same.
   */
  async function deleteSentCopy(attempt: Attempt, draftId: string): Promise<void> {
    const { lookup, deadline, sendId, log } = attempt;
    let sentItems: string | undefined;
    const inSentItems = async () => {
      sentItems ??= await sentItemsFolderId(lookup);
      const ref = await getMessageRef(lookup, draftId);
      return ref && !ref.isDraft && ref.parentFolderId === sentItems ? ref : null;
    };
    // Leave time for the DELETE itself.
    const budgetMs = Math.min(timings.unsavedCopyMs, deadline.remainingMs() - 2000);
    const copy = await lookFor(inSentItems, budgetMs, deadline, log);
    if (!copy) {
      log.warn(
        'the Sent Items copy of a message sent with saveToSentItems=false did not appear in time; it stays',
        { sendId, messageId: draftId },
      );
      return;
    }
    await deleteMessage(lookup, copy.id).catch((error: unknown) =>
      log.warn(
        'could not delete the Sent Items copy of a message sent with saveToSentItems=false',
        {
          sendId,
          messageId: draftId,
          error,
        },
      ),
    );
  }

  async function sendViaDraft(
    attempt: Attempt,
    payload: GraphOutgoingMessage,
  ): Promise<SendResult> {
    const { message, sendId, work, lookup, deadline, workDeadline, log } = attempt;
    // Small files ride along in the create request while it stays under the request limit.
    const small = message.attachments.filter(isSmall);
    const large = message.attachments.filter((a) => !isSmall(a));
    let budget = SINGLE_REQUEST_LIMIT_BYTES - Buffer.byteLength(JSON.stringify(payload));
    const packed: AttachmentInput[] = [];
    const separate: AttachmentInput[] = [];
    for (const attachment of small) {
      const bytes = attachmentJsonBytes(attachment);
      if (bytes <= budget) {
        packed.push(attachment);
        budget -= bytes;
      } else separate.push(attachment);
    }

    let draft: MessageRef | undefined;
    const uploadUrls = new Set<string>();
    try {
      if (packed.length > 0) payload.attachments = await Promise.all(packed.map(toFileAttachment));
      draft = await createMarkedDraft(attempt, payload);
      for (const attachment of separate) {
        await addFileAttachment(work, draft.id, await toFileAttachment(attachment));
      }
      for (const attachment of large) {
        const session = await createUploadSession(work, draft.id, {
          attachmentType: 'file',
          name: attachment.name,
          size: attachment.size,
          contentType: attachment.contentType,
          ...(attachment.isInline ? { isInline: true } : {}),
          ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
        });
        uploadUrls.add(session.uploadUrl);
        const mailboxKey = work.mailboxAddress.toLowerCase(); // the factory's limiter key
        const uploaded = await uploadToSession(session, attachment, {
          deadline: workDeadline,
          log,
          fetch: doFetch,
          slot: (abortSignal) => deps.graph.limiter.acquire(mailboxKey, { abortSignal }),
        });
        uploadUrls.delete(session.uploadUrl);
        deps.onUpload?.({ name: attachment.name, size: attachment.size, chunks: uploaded.chunks });
      }
      await attempt.commit(sendId);
    } catch (error) {
      await cleanUp(attempt, draft?.id, uploadUrls);
      throw error;
    }

    const draftId = draft.id;
    const sentCopy = async () => {
      const ref = await getMessageRef(lookup, draftId);
      return ref && !ref.isDraft ? ref : null;
    };
    try {
      await sendDraft(work, draftId);
    } catch (error) {
      if (!isUncertainSendFailure(error)) {
        await cleanUp(attempt, draftId, uploadUrls);
        throw error;
      }
      log.warn('send answer lost; looking the draft up by its immutable id', { sendId, error });
      // The draft stays when not found: it may still be on its way out of the Outbox.
      if (!(await lookFor(sentCopy, timings.lostAnswerMs, deadline, log))) {
        throw new SendOutcomeUnknownError(sendId, { cause: error });
      }
    }
    if (!message.saveToSentItems) {
      await deleteSentCopy(attempt, draftId);
      return result(sendId, null);
    }
    const ref = await getMessageRef(lookup, draftId).catch(() => null);
    return result(sendId, ref ?? draft);
  }

  async function dispatch(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: SendOptions,
    commit: (sendId: string) => Promise<void>,
  ): Promise<SendResult> {
    const { deadline } = options;
    const sendId = newSendId();
    const log = options.log.child({ sendId });
    // Keep back enough of the budget to find out what happened if the send's answer is lost.
    const reserveMs = Math.floor(Math.min(timings.lostAnswerMs + 2000, deadline.remainingMs() / 3));
    const workDeadline = createDeadline(
      Math.max(1, deadline.remainingMs() - reserveMs),
      deadline.signal,
    );
    const mailbox = message.mailbox === undefined ? {} : { mailbox: message.mailbox };
    const work = await deps.graph.forCredential(credential, {
      deadline: workDeadline,
      log,
      ...mailbox,
    });
    const lookup = await deps.graph.forCredential(credential, { deadline, log, ...mailbox });
    const { payload, marked } = toGraphMessage(message, sendId);
    const attempt: Attempt = {
      message,
      sendId,
      work,
      lookup,
      deadline,
      workDeadline,
      log,
      marked,
      commit,
    };
    const requestBytes =
      Buffer.byteLength(
        JSON.stringify({ message: payload, saveToSentItems: message.saveToSentItems }),
      ) + message.attachments.reduce((sum, a) => sum + attachmentJsonBytes(a), 0);
    // Unmarked messages (all 5 header slots taken) go by draft: its immutable id finds them.
    const single =
      marked && message.attachments.every(isSmall) && requestBytes <= SINGLE_REQUEST_LIMIT_BYTES;
    try {
      return await (single ? sendSingle(attempt, payload) : sendViaDraft(attempt, payload));
    } catch (error) {
      throw explainSendAs(error, message, work.mailboxAddress);
    }
  }

  return {
    async send(credential, message, options) {
      checkMessageLimits(message, deps.maxMessageSizeBytes);
      const noCommit = async () => {};
      if (!options.idempotency) return dispatch(credential, message, options, noCommit);
      if (!deps.idempotency) {
        throw new AppError('internal', 'Idempotency keys need an idempotency store.');
      }
      const { key, fingerprint } = options.idempotency;
      const begun = await deps.idempotency.begin(credential, key, fingerprint, options);
      if (begun.kind === 'replay') {
        if (begun.value.kind === 'sent') return begun.value.result;
        throw new SendOutcomeUnknownError(begun.value.sendId);
      }
      const { claim, takenOver } = begun;
      if (takenOver?.committed) {
        // The first attempt died after it started sending: never send a second time.
        const sendId = takenOver.note ?? 'unknown';
        await claim.complete({ kind: 'unknown', sendId });
        throw new SendOutcomeUnknownError(sendId);
      }
      let sent: SendResult;
      try {
        sent = await dispatch(credential, message, options, (sendId) => claim.commit(sendId));
      } catch (error) {
        if (error instanceof SendOutcomeUnknownError) {
          await claim.complete({ kind: 'unknown', sendId: error.sendId }).catch((e: unknown) => {
            options.log.error('could not record an unknown send outcome', { error: e });
          });
        } else {
          await claim.release().catch((e: unknown) => {
            options.log.warn('could not release an idempotency key', { error: e });
          });
        }
        throw error;
      }
      // The mail is out: a storage hiccup now must not turn success into an error.
      await claim.complete({ kind: 'sent', result: sent }).catch((error: unknown) => {
        options.log.error('could not record a send result for its idempotency key', { error });
      });
      return sent;
    },
  };
}
