import { randomUUID } from 'node:crypto';

import { budgetSignal, remainingMs } from '../../core/abort';
import { type CredentialKey } from '../../credentials/types';
import {
  ConflictError,
  ForbiddenError,
  isErrorOf,
  NotFoundError,
  SendAsDeniedError,
} from '../../core/errors';
import { type GraphFactory } from '../../graph/client';
import { getMessageRef } from '../../graph/drafts';
import { type MessageRef } from '../../graph/send';
import { type IdempotencyStore } from '../idempotency';
import { type SendRecord, type SendRecordStore } from './records';
import { copyOutcome, type SentCopyCleanup } from './sent-copy';
import { type SenderPreparer } from '../identity/sender';
import { checkMessageLimits } from '../send-limits';
import {
  type DraftSender,
  type OutgoingMessage,
  type SendOptions,
  type SendResult,
  type SendService,
} from '../send-types';
import { withFiles } from './attach';
import { confirmDraftSend, confirmSendMail } from './confirm';
import { type ConfirmTimings, DEFAULT_CONFIRM_TIMINGS, type SendContext } from './context';
import { addFiles, discardDraft, newDraft, prepareDraft, responseDraft } from './draft';
import { type IdempotentSendOutcome, sendOnce } from './once';
import { planSend, refuseSessionFiles, type SendPlan } from './plan';
import { type Submission, submitDraft, submitMessage } from './submit';

export { type ConfirmTimings, DEFAULT_CONFIRM_TIMINGS } from './context';
export { type IdempotentSendOutcome } from './once';
export { toGraphMessage } from './plan';

/**
 * Sends mail through Graph, never twice, in four stages (each its own module):
 * - plan: every message carries its send id in a single-value extended property; one whose
 *   request fits Graph's 4,000,000 bytes (base64 and JSON counted) goes by `sendMail`, anything
 *   bigger by draft (immutable id); a shared mailbox cannot take upload sessions with delegated
 *   permissions (Graph known issue), so such a draft is made in the signed-in user's mailbox with
 *   `from` set to the shared mailbox (Send As / Send on Behalf rights apply), and its Sent Items
 *   copy and ids are the signed-in user's;
 * - attach: files ride in the first request while it stays within that bound, then one POST
 *   `/attachments` each, the rest through upload sessions; any failure before `/send` deletes the
 *   draft and cancels open upload sessions (a draft whose create answer was lost is found by its
 *   send id);
 * - submit: `sendMail` or `/send`, retried on 429 only;
 * - confirm: a lost answer (timeout, network error, 5xx) is resolved by looking the message up;
 *   when it cannot be found the send is reported as outcome unknown, never retried. `/send`
 *   always keeps a copy in Sent Items: with `saveToSentItems: false` a queued job deletes it
 *   once it appears (the caller does not wait for it).
 */

export interface SendServiceDependencies {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential' | 'limiter'>;
  /** Needed only by callers that pass `idempotency`. */
  idempotency?: IdempotencyStore<IdempotentSendOutcome>;
  /** Where each send is remembered for `GET …/sends/{sendId}` (absent: nowhere). */
  records?: SendRecordStore;
  /**
   * Deletes the Sent Items copy of a draft sent with saveToSentItems=false, later, from a queue
   * (absent: the copy stays, with an error logged).
   */
  sentCopies?: Pick<SentCopyCleanup, 'schedule'>;
  maxMessageSizeBytes: number;
  confirm?: Partial<ConfirmTimings>;
  newSendId?: () => string;
  /** Observes upload progress (the benchmark counts chunks). */
  onUpload?: (event: { name: string; size: number; chunks: number }) => void;
  /** Checks `from` and puts the signature in (absent: messages go as given). */
  sender?: SenderPreparer;
}

/** Exchange's refusals to send as an address (ErrorSendAsDenied, ErrorSendOnBehalfOfDenied, …). */
const SEND_AS_REFUSAL = /SendAsDenied|SendOnBehalfOf?Denied|NotAllowedToSendAs/i;

/** Graph's Send As refusal as a 403 send_as_denied that says what an administrator must enable. */
function explainSendAs(error: unknown, as: string, kind: OutgoingMessage['fromKind']): unknown {
  if (!isErrorOf(error, ForbiddenError) || !SEND_AS_REFUSAL.test(error.message)) return error;
  const detail =
    kind === 'alias'
      ? `Exchange Online refused to send from the alias ${as}: users may send from their aliases only where the organization allows it. A tenant administrator must enable it with the Exchange Online PowerShell command Set-OrganizationConfig -SendFromAliasEnabled $true (it can take an hour to apply).`
      : `Exchange Online refused to send as ${as}: the connected account needs Send As or Send on Behalf rights on that mailbox (an Exchange administrator grants them with Add-RecipientPermission -AccessRights SendAs, or Set-Mailbox -GrantSendOnBehalfTo), and the credential needs the Mail.Send.Shared permission.`;
  return new SendAsDeniedError(as, detail, { cause: error });
}

/** The draft of a planned message, its files added (draft route). */
async function draftOf(ctx: SendContext, plan: SendPlan): Promise<MessageRef> {
  const payload = await withFiles(plan.payload, plan.packed);
  const create = plan.response ? responseDraft(plan.response, payload) : newDraft(payload);
  return prepareDraft(ctx, create, plan.separate);
}

/** Submits a prepared draft and confirms it; a refusal before sending deletes the draft. */
async function sendPrepared(
  ctx: SendContext,
  draft: MessageRef,
  discardOnRefusal: boolean,
): Promise<SendResult> {
  let submission: Submission;
  try {
    submission = await submitDraft(ctx, draft.id);
  } catch (error) {
    if (discardOnRefusal) await discardDraft(ctx, draft.id);
    throw error;
  }
  return confirmDraftSend(ctx, draft, submission);
}

/** attach → submit → confirm for a planned message. */
async function deliver(ctx: SendContext, plan: SendPlan): Promise<SendResult> {
  if (plan.route === 'sendMail') {
    const payload = await withFiles(plan.payload, plan.packed);
    return confirmSendMail(ctx, await submitMessage(ctx, payload, plan.response));
  }
  return sendPrepared(ctx, await draftOf(ctx, plan), true);
}

export function createSendService(deps: SendServiceDependencies): SendService & DraftSender {
  const timings: ConfirmTimings = { ...DEFAULT_CONFIRM_TIMINGS, ...deps.confirm };
  const newSendId = deps.newSendId ?? randomUUID;

  /** One send's context in `mailbox`: its budgets, Graph clients and concurrency slot. */
  async function openContext(
    credential: CredentialKey,
    mailbox: string | undefined,
    base: Pick<SendContext, 'message' | 'sendId' | 'log' | 'commit'>,
    abortSignal: AbortSignal | undefined,
  ): Promise<SendContext> {
    const { log } = base;
    // Keep back enough of the budget to find out what happened if the send's answer is lost.
    const leftMs = remainingMs(abortSignal);
    const reserveMs = Math.floor(Math.min(timings.lostAnswerMs + 2000, leftMs / 3));
    const workSignal = budgetSignal(Math.max(1, leftMs - reserveMs), abortSignal);
    const target = mailbox === undefined ? {} : { mailbox };
    const work = await deps.graph.forCredential(credential, {
      abortSignal: workSignal,
      log,
      ...target,
    });
    const lookup = await deps.graph.forCredential(credential, { abortSignal, log, ...target });
    const mailboxKey = work.mailboxAddress.toLowerCase(); // the factory's limiter key
    const remember = async (record: SendRecord) => {
      await deps.records?.put(credential, record).catch((error: unknown) => {
        log.error('could not record a send; GET …/sends/{sendId} will not know it', { error });
      });
    };
    const deleteCopyLater = async (record: SendRecord) => {
      try {
        if (!deps.sentCopies) throw new Error('no queue to delete Sent Items copies from');
        await deps.sentCopies.schedule(credential, record);
      } catch (error) {
        log.error('could not queue the deletion of a Sent Items copy not to be kept; it stays', {
          error,
        });
        await deps.records
          ?.update(credential, record.sendId, copyOutcome('left'))
          .catch((failure: unknown) => {
            log.error('could not record that a Sent Items copy stays', { error: failure });
          });
      }
    };
    return {
      ...base,
      mailbox,
      remember,
      deleteCopyLater,
      work,
      lookup,
      abortSignal,
      workSignal,
      slot: (slotSignal) => deps.graph.limiter.acquire(mailboxKey, { abortSignal: slotSignal }),
      timings,
      onUpload: deps.onUpload,
    };
  }

  /** A new send id, the plan, and the context in the mailbox the plan drafts in. */
  async function planned(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: SendOptions,
    commit: (sendId: string) => Promise<void>,
    keep: boolean,
  ): Promise<{ ctx: SendContext; plan: SendPlan }> {
    const sendId = newSendId();
    const base = { message, sendId, log: options.log.child({ sendId }), commit };
    let ctx = await openContext(credential, message.mailbox, base, options.abortSignal);
    const plan = planSend(
      message,
      sendId,
      {
        root: ctx.work.root,
        mailboxAddress: ctx.work.mailboxAddress,
        signedInAddress: ctx.work.access.account.address,
      },
      { keep },
    );
    if (plan.draftMailbox !== undefined) {
      base.log.info('large attachments from a shared mailbox: drafting in the signed-in mailbox', {
        from: plan.sendingAs,
      });
      ctx = await openContext(credential, plan.draftMailbox, base, options.abortSignal);
    }
    return { ctx, plan };
  }

  async function dispatch(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: SendOptions,
    commit: (sendId: string) => Promise<void>,
  ): Promise<SendResult> {
    const { ctx, plan } = await planned(credential, message, options, commit, false);
    try {
      return await deliver(ctx, plan);
    } catch (error) {
      throw explainSendAs(error, plan.sendingAs, message.fromKind);
    }
  }

  /** `run` at most once per Idempotency-Key, when one is given. */
  function once(
    credential: CredentialKey,
    options: SendOptions,
    run: (commit: (sendId: string) => Promise<void>) => Promise<SendResult>,
  ): Promise<SendResult> {
    const { idempotency } = options;
    if (!idempotency) return run(async () => {});
    return sendOnce(deps.idempotency, credential, { ...options, idempotency }, run);
  }

  /** The context of work on an existing draft: 404 when it is gone, 409 once it was sent. */
  async function onDraft(
    credential: CredentialKey,
    draftId: string,
    options: SendOptions & { mailbox?: string | undefined },
    commit: (sendId: string) => Promise<void>,
  ): Promise<{ ctx: SendContext; draft: MessageRef }> {
    const sendId = newSendId();
    const base = {
      // Graph's /send always keeps a copy in Sent Items.
      message: { saveToSentItems: true },
      sendId,
      log: options.log.child({ sendId, draftId }),
      commit,
    };
    const ctx = await openContext(credential, options.mailbox, base, options.abortSignal);
    const draft = await getMessageRef(ctx.lookup, draftId, { from: true });
    if (!draft) throw new NotFoundError(`Draft ${draftId}`);
    if (!draft.isDraft) {
      throw new ConflictError(
        'conflict',
        `Message ${draftId} is not a draft: it was sent already.`,
      );
    }
    return { ctx, draft };
  }

  /** Sends a draft that is still one (404 when gone, 409 once sent), confirmed by its id. */
  async function sendExisting(
    credential: CredentialKey,
    draftId: string,
    options: SendOptions & { mailbox?: string | undefined },
    commit: (sendId: string) => Promise<void>,
  ): Promise<SendResult> {
    const { ctx, draft } = await onDraft(credential, draftId, options, commit);
    // The draft may have been changed since it was made (in Outlook too): its from is checked
    // again, unless it is the mailbox the draft is in. Its signature went in when it was made.
    const from = draft.from ?? ctx.work.mailboxAddress;
    const kind =
      deps.sender && from.toLowerCase() !== ctx.work.mailboxAddress.toLowerCase()
        ? await deps.sender.checkFrom(credential, from, options)
        : undefined;
    try {
      return await sendPrepared(ctx, draft, false);
    } catch (error) {
      throw explainSendAs(error, from, kind);
    }
  }

  return {
    async send(credential, given, options) {
      const message = deps.sender ? await deps.sender.prepare(credential, given, options) : given;
      checkMessageLimits(message, deps.maxMessageSizeBytes);
      return once(credential, options, (commit) => dispatch(credential, message, options, commit));
    },
    async saveDraft(credential, given, options) {
      const message = deps.sender ? await deps.sender.prepare(credential, given, options) : given;
      checkMessageLimits(message, deps.maxMessageSizeBytes, { draft: true });
      const { ctx, plan } = await planned(credential, message, options, async () => {}, true);
      return draftOf(ctx, plan);
    },
    async attachToDraft(credential, draftId, files, options) {
      const { ctx } = await onDraft(credential, draftId, options, async () => {});
      refuseSessionFiles({ attachments: files }, ctx.work, 'draft in a shared mailbox');
      await addFiles(ctx, draftId, files);
    },
    sendDraft(credential, draftId, options) {
      return once(credential, options, (commit) =>
        sendExisting(credential, draftId, options, commit),
      );
    },
  };
}
