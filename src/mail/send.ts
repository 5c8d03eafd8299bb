import { randomUUID } from 'node:crypto';

import { budgetSignal, remainingMs, sleep } from '../core/abort';
import {
  AppError,
  ForbiddenError,
  PayloadTooLargeError,
  SendOutcomeUnknownError,
} from '../core/errors';
import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';
import { type GraphFactory, type MailboxGraph } from '../graph/client';
import { addFileAttachment, createDraft, deleteMessage, getMessageRef } from '../graph/drafts';
import { GRAPH_REQUEST_LIMIT_BYTES } from '../graph/errors';
import {
  findBySendId,
  type GraphFileAttachment,
  type GraphOutgoingMessage,
  type GraphRecipient,
  isUncertainSendFailure,
  type MessageRef,
  sendDraft,
  sendIdProperty,
  sendMail,
  sentItemsFolderId,
} from '../graph/send';
import {
  cancelUploadSession,
  createUploadSession,
  isBelowSessionMinimum,
  type MailboxSlot,
  uploadToSession,
} from '../graph/uploads';
import { type IdempotencyStore } from './idempotency';
import { checkMessageLimits } from './send-limits';
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
 * - every message carries its send id in a single-value extended property (`sendIdProperty`);
 * - a message whose request fits Graph's 4,000,000 bytes (base64 and JSON counted) goes by
 *   `sendMail`;
 * - anything bigger is a draft (immutable id) with files attached in requests that each stay
 *   within that bound (in the create request, or one POST `/attachments` each) and the rest
 *   through upload sessions, then `/send`; any failure before `/send` deletes the draft and
 *   cancels open upload sessions (a draft whose create answer was lost is found by its send id);
 * - a shared mailbox cannot take upload sessions with delegated permissions (Graph known issue),
 *   so such a message is drafted in the signed-in user's mailbox with `from` set to the shared
 *   mailbox (Send As / Send on Behalf rights apply); its Sent Items copy, and the ids reported,
 *   are the signed-in user's;
 * - `/send` always keeps a copy in Sent Items: with `saveToSentItems: false` that copy is deleted
 *   once the message has left (see `deleteSentCopy`);
 * - `sendMail` and `/send` are retried on 429 only. A lost answer (timeout, network error, 5xx)
 *   is resolved by looking the message up (Sent Items by the send id property, or the draft's
 *   immutable id, as the docs advise); when it cannot be found the send is reported as outcome
 *   unknown, never retried.
 */

/** What an Idempotency-Key remembers: the result, or that the outcome is unknown. */
export type IdempotentSendOutcome =
  { kind: 'sent'; result: SendResult } | { kind: 'unknown'; sendId: string };

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

/** The message as Graph takes it, marked with its send id (attachments are added separately). */
export function toGraphMessage(message: OutgoingMessage, sendId: string): GraphOutgoingMessage {
  const headers = Object.entries(message.headers).map(([name, value]) => ({ name, value }));
  return {
    subject: message.subject,
    body: { contentType: message.contentType === 'html' ? 'HTML' : 'Text', content: message.body },
    toRecipients: message.to.map(toGraphRecipient),
    ccRecipients: message.cc.map(toGraphRecipient),
    bccRecipients: message.bcc.map(toGraphRecipient),
    replyTo: message.replyTo.map(toGraphRecipient),
    importance: message.importance,
    ...(message.from ? { from: toGraphRecipient(message.from) } : {}),
    ...(headers.length > 0 ? { internetMessageHeaders: headers } : {}),
    singleValueExtendedProperties: [sendIdProperty(sendId)],
  };
}

async function readAll(attachment: AttachmentInput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of attachment.open()) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** A file attachment with its bytes left out. */
function attachmentShell(attachment: AttachmentInput): GraphFileAttachment {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: attachment.name,
    contentType: attachment.contentType,
    contentBytes: '',
    ...(attachment.isInline ? { isInline: true } : {}),
    ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
  };
}

async function toFileAttachment(attachment: AttachmentInput): Promise<GraphFileAttachment> {
  return {
    ...attachmentShell(attachment),
    contentBytes: (await readAll(attachment)).toString('base64'),
  };
}

/**
 * Whether the JSON request `build` makes around `attachments` stays within Graph's 4,000,000
 * bytes, counted exactly without reading any file: base64 needs no escaping, so the request is
 * its JSON with empty contentBytes plus each file's base64 length.
 */
function fitsOneRequest(
  attachments: AttachmentInput[],
  build: (shells: GraphFileAttachment[]) => unknown,
): boolean {
  const json = Buffer.byteLength(JSON.stringify(build(attachments.map(attachmentShell))));
  const base64 = attachments.reduce((sum, a) => sum + 4 * Math.ceil(a.size / 3), 0);
  return json + base64 <= GRAPH_REQUEST_LIMIT_BYTES;
}

/** Whether POST `/attachments` can carry the file within Graph's request limit. */
const postable = (attachment: AttachmentInput) => fitsOneRequest([attachment], ([one]) => one);

/** Plain language for Graph's ErrorSendAsDenied. */
function explainSendAs(error: unknown, as: string): unknown {
  if (!(error instanceof ForbiddenError) || !/ErrorSendAsDenied/i.test(error.message)) return error;
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
    abortSignal: AbortSignal | undefined,
    log: Logger,
  ): Promise<T | null> {
    const until = Date.now() + Math.min(budgetMs, remainingMs(abortSignal) - 500);
    let delay = timings.firstDelayMs;
    for (;;) {
      try {
        const found = await find();
        if (found) return found;
      } catch (error) {
        log.warn('send lookup failed', { error });
      }
      if (Date.now() + delay > until) return null;
      await sleep(delay, abortSignal).catch(() => undefined);
      if (abortSignal?.aborted) return null;
      delay = Math.min(delay * 2, 4000);
    }
  }

  interface Attempt {
    message: OutgoingMessage;
    sendId: string;
    /** Bound to a budget that leaves time to look up a lost answer. */
    work: MailboxGraph;
    /** Bound to the whole budget: lookups and cleanup after `work` ran out. */
    lookup: MailboxGraph;
    abortSignal: AbortSignal | undefined;
    workSignal: AbortSignal;
    log: Logger;
    /** One of the drafting mailbox's concurrency slots, for upload PUTs and cancels. */
    slot: MailboxSlot;
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
    const { message, sendId, work, lookup, abortSignal, log } = attempt;
    const find = () => findBySendId(lookup, 'sentitems', sendId);
    if (message.attachments.length > 0) {
      payload.attachments = await Promise.all(message.attachments.map(toFileAttachment));
    }
    await attempt.commit(sendId);
    try {
      await sendMail(work, payload, message.saveToSentItems);
    } catch (error) {
      if (!isUncertainSendFailure(error)) throw error;
      log.warn('sendMail answer lost; looking for the message in Sent Items', { sendId, error });
      // Without a Sent Items copy there is nothing to look for.
      const found = message.saveToSentItems
        ? await lookFor(find, timings.lostAnswerMs, abortSignal, log)
        : null;
      if (!found) throw new SendOutcomeUnknownError(sendId, { cause: error });
      return result(sendId, found);
    }
    if (!message.saveToSentItems) return result(sendId, null);
    return result(sendId, await lookFor(find, timings.afterSendMs, abortSignal, log));
  }

  /** Removes what a failed draft flow left: open upload sessions, then the draft. */
  async function cleanUp(
    attempt: Attempt,
    draftId: string | undefined,
    uploadUrls: Set<string>,
  ): Promise<void> {
    // Its own budget: cleanup runs also after the caller's budget ran out.
    const cleanup = budgetSignal(
      Math.max(1000, Math.min(15_000, remainingMs(attempt.abortSignal))),
    );
    for (const url of uploadUrls) {
      const options = { fetch: doFetch, abortSignal: cleanup, slot: attempt.slot };
      await cancelUploadSession(url, options).catch((error: unknown) =>
        attempt.log.warn('could not cancel an upload session', { error }),
      );
    }
    if (draftId === undefined) return;
    await deleteMessage(attempt.lookup, draftId).catch((error: unknown) =>
      attempt.log.error('could not delete the draft of a failed send', { error }),
    );
  }

  /**
   * Creates the draft. When the answer is lost the draft may exist all the same: it is looked up
   * in Drafts by its send id and deleted, so nothing is left behind.
   */
  async function createTrackedDraft(
    attempt: Attempt,
    payload: GraphOutgoingMessage,
  ): Promise<MessageRef> {
    const { work, lookup, sendId, abortSignal, log } = attempt;
    try {
      return await createDraft(work, payload);
    } catch (error) {
      if (isUncertainSendFailure(error)) {
        const find = () => findBySendId(lookup, 'drafts', sendId);
        const orphan = await lookFor(find, timings.afterSendMs, abortSignal, log);
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
    const { lookup, abortSignal, sendId, log } = attempt;
    let sentItems: string | undefined;
    const inSentItems = async () => {
      sentItems ??= await sentItemsFolderId(lookup);
      const ref = await getMessageRef(lookup, draftId);
      return ref && !ref.isDraft && ref.parentFolderId === sentItems ? ref : null;
    };
    // Leave time for the DELETE itself.
    const budgetMs = Math.min(timings.unsavedCopyMs, remainingMs(abortSignal) - 2000);
    const copy = await lookFor(inSentItems, budgetMs, abortSignal, log);
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

  async function upload(
    attempt: Attempt,
    draftId: string,
    attachment: AttachmentInput,
    uploadUrls: Set<string>,
  ): Promise<void> {
    const session = await createUploadSession(attempt.work, draftId, {
      attachmentType: 'file',
      name: attachment.name,
      size: attachment.size,
      contentType: attachment.contentType,
      ...(attachment.isInline ? { isInline: true } : {}),
      ...(attachment.contentId === undefined ? {} : { contentId: attachment.contentId }),
    });
    uploadUrls.add(session.uploadUrl);
    const uploaded = await uploadToSession(session, attachment, {
      abortSignal: attempt.workSignal,
      log: attempt.log,
      fetch: doFetch,
      slot: attempt.slot,
    });
    uploadUrls.delete(session.uploadUrl);
    deps.onUpload?.({ name: attachment.name, size: attachment.size, chunks: uploaded.chunks });
  }

  /**
   * Adds one file to the draft: by POST `/attachments` when its request fits Graph's limit,
   * otherwise by upload session. When Graph refuses either for the file's size (a 413, or a
   * session refused as under its minimum: Graph's "3 MB" need not be ours), the other way is
   * tried; nothing has been sent yet, so that is safe.
   */
  async function attach(
    attempt: Attempt,
    draftId: string,
    attachment: AttachmentInput,
    uploadUrls: Set<string>,
  ): Promise<void> {
    const post = async () =>
      addFileAttachment(attempt.work, draftId, await toFileAttachment(attachment));
    const bySession = () => upload(attempt, draftId, attachment, uploadUrls);
    const [first, second, refusedForSize] = postable(attachment)
      ? [post, bySession, (e: unknown) => e instanceof PayloadTooLargeError]
      : [bySession, post, isBelowSessionMinimum];
    try {
      await first();
    } catch (error) {
      if (!refusedForSize(error)) throw error;
      attempt.log.warn('Graph refused an attachment for its size; trying the other way', {
        name: attachment.name,
        size: attachment.size,
        error,
      });
      await second();
    }
  }

  async function sendViaDraft(
    attempt: Attempt,
    payload: GraphOutgoingMessage,
  ): Promise<SendResult> {
    const { message, sendId, work, lookup, abortSignal, log } = attempt;
    // Files ride along in the create request while it stays within Graph's request limit.
    const packed: AttachmentInput[] = [];
    const separate: AttachmentInput[] = [];
    for (const attachment of message.attachments) {
      const fits =
        postable(attachment) &&
        fitsOneRequest([...packed, attachment], (shells) => ({ ...payload, attachments: shells }));
      (fits ? packed : separate).push(attachment);
    }

    let draft: MessageRef | undefined;
    const uploadUrls = new Set<string>();
    try {
      if (packed.length > 0) payload.attachments = await Promise.all(packed.map(toFileAttachment));
      draft = await createTrackedDraft(attempt, payload);
      for (const attachment of separate) await attach(attempt, draft.id, attachment, uploadUrls);
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
      if (!(await lookFor(sentCopy, timings.lostAnswerMs, abortSignal, log))) {
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
    const { abortSignal } = options;
    const sendId = newSendId();
    const log = options.log.child({ sendId });
    // Keep back enough of the budget to find out what happened if the send's answer is lost.
    const leftMs = remainingMs(abortSignal);
    const reserveMs = Math.floor(Math.min(timings.lostAnswerMs + 2000, leftMs / 3));
    const workSignal = budgetSignal(Math.max(1, leftMs - reserveMs), abortSignal);
    const open = async (mailbox: string | undefined) => {
      const target = mailbox === undefined ? {} : { mailbox };
      const work = await deps.graph.forCredential(credential, {
        abortSignal: workSignal,
        log,
        ...target,
      });
      const lookup = await deps.graph.forCredential(credential, { abortSignal, log, ...target });
      return { work, lookup };
    };
    let { work, lookup } = await open(message.mailbox);
    const sendingAs = message.from?.address ?? work.mailboxAddress;
    let payload = toGraphMessage(message, sendId);
    const single = fitsOneRequest(message.attachments, (shells) => ({
      message: { ...payload, attachments: shells },
      saveToSentItems: message.saveToSentItems,
    }));
    // Delegated upload sessions work only in the signed-in user's mailbox (Graph known issue).
    if (!single && work.root !== '/me' && !message.attachments.every(postable)) {
      log.info('large attachments from a shared mailbox: drafting in the signed-in mailbox', {
        from: sendingAs,
      });
      ({ work, lookup } = await open(work.access.account.address));
      const from = message.from ?? { address: sendingAs };
      payload = toGraphMessage({ ...message, from }, sendId);
    }
    const mailboxKey = work.mailboxAddress.toLowerCase(); // the factory's limiter key
    const attempt: Attempt = {
      message,
      sendId,
      work,
      lookup,
      abortSignal,
      workSignal,
      log,
      slot: (abortSignal) => deps.graph.limiter.acquire(mailboxKey, { abortSignal }),
      commit,
    };
    try {
      return await (single ? sendSingle(attempt, payload) : sendViaDraft(attempt, payload));
    } catch (error) {
      throw explainSendAs(error, sendingAs);
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
