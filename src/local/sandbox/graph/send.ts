import { badRequest, GraphError, type GraphResponse } from '../errors';
import { isMimeRequest } from '../mime';
import type { GraphContext, SandboxState } from '../state';
import { type Mailbox, newMessage, type Recipient, type StoredMessage } from '../store';
import { asText, exchangeId, isRecord } from '../util';
import { wrapHtml } from '../views';
import { actionParameters, noContent } from './helpers';
import { applyInput, newDraft, readMessagePayload } from './messages';
import type { MessageInput } from './message-input';

const sendAsDenied = (): GraphError =>
  new GraphError(
    403,
    'ErrorSendAsDenied',
    'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.',
  );

/**
 * Works out `from`/`sender` like Exchange: the mailbox owner by default; one of the owner's own
 * aliases only where the organization set SendFromAliasEnabled (else 403 ErrorSendAsDenied);
 * another mailbox needs Mail.Send.Shared plus Send As (sender = from) or Send on Behalf
 * (sender = the signed-in user). Display names come from the directory, not the request.
 */
function resolveSender(
  ctx: GraphContext,
  requestedFrom: Recipient | null | undefined,
): { from: Recipient; sender: Recipient } {
  const store = ctx.state.store;
  const asRecipient = (u: { displayName: string; mail: string }): Recipient => ({
    emailAddress: { name: u.displayName, address: u.mail },
  });
  const owner = ctx.mailbox.user;
  const requested = requestedFrom?.emailAddress.address;
  const aliasOwner = requested === undefined ? undefined : store.findAliasOwner(requested);
  if (requested !== undefined && aliasOwner) {
    if (aliasOwner.id !== owner.id || !ctx.state.tenant.sendFromAliasEnabled) throw sendAsDenied();
    if (owner.id !== ctx.caller.id && !sharedRights(ctx, owner)) throw sendAsDenied();
    const alias = asRecipient({ displayName: owner.displayName, mail: requested });
    return { from: alias, sender: alias };
  }
  const fromUser = requested === undefined ? owner : store.findUser(requested);
  if (!fromUser) throw sendAsDenied();
  if (fromUser.id === ctx.caller.id)
    return { from: asRecipient(fromUser), sender: asRecipient(fromUser) };
  if (!sharedRights(ctx, fromUser)) throw sendAsDenied();
  return {
    from: asRecipient(fromUser),
    sender: store.grant(ctx.caller.id, fromUser.id)!.sendAs
      ? asRecipient(fromUser)
      : asRecipient(ctx.caller),
  };
}

/** Whether the signed-in user may send as (or on behalf of) `target` from another mailbox. */
function sharedRights(ctx: GraphContext, target: { id: string }): boolean {
  const grant = ctx.state.store.grant(ctx.caller.id, target.id);
  return (
    ctx.grant.scopes.has('Mail.Send.Shared') && !!grant && (grant.sendAs || grant.sendOnBehalf)
  );
}

function allRecipients(m: StoredMessage): Recipient[] {
  return [...m.toRecipients, ...m.ccRecipients, ...m.bccRecipients];
}

/** Synchronous checks Graph makes before it accepts a send (202). */
/**
 * The message as transport sees it: MIME headers, the body (quoted-printable when ASCII, else base64)
 * and every attachment in base64 with a CRLF per 76 characters. Exchange's MaxSendSize applies to this.
 */
function transportSize(m: StoredMessage): number {
  const base64 = (n: number) => Math.ceil(n / 3) * 4 + 2 * Math.ceil(Math.ceil(n / 3) / 19);
  const text = Buffer.from(m.subject + m.body.content, 'utf8');
  const ascii = text.every((b) => b < 0x80);
  const headers = 1000 + 80 * allRecipients(m).length;
  const body = ascii ? Math.ceil(text.length * 1.04) : base64(text.length);
  return m.attachments.reduce((sum, a) => sum + 300 + base64(a.bytes.length), headers + body);
}

function validateForSend(ctx: GraphContext, m: StoredMessage): void {
  const limit = ctx.state.limits.limits.maxSendSizeBytes;
  if (transportSize(m) > limit) {
    // The status is not documented; Exchange's code is. Clients should key on the code.
    throw new GraphError(
      413,
      'ErrorMessageSizeExceeded',
      `The message exceeds the maximum supported size (${limit} bytes as sent).`,
    );
  }
  if (allRecipients(m).length === 0) {
    throw badRequest(
      "At least one recipient isn't valid., A message can't be sent because it contains no recipients.",
      'ErrorInvalidRecipients',
    );
  }
  const bad = allRecipients(m).find(
    (r) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(r.emailAddress.address),
  );
  if (bad)
    throw badRequest(
      `At least one recipient isn't valid., Recipient '${bad.emailAddress.address}' isn't resolved. All recipients must be resolved before a message can be submitted.`,
      'ErrorInvalidRecipients',
    );
}

/**
 * Submits a message like Exchange: it waits in the Outbox until the mailbox's message rate allows
 * it (no 429), then is delivered to every recipient that is a sandbox mailbox and, `sentItemsDelayMs`
 * later, its copy appears in Sent Items (or nothing is kept with saveToSentItems=false): the docs
 * say the copy "may take time" to appear after the 202. Over the recipient limit it is not
 * delivered and the sender gets a non-delivery report, as Exchange transport does.
 */
export function submit(
  state: SandboxState,
  mailbox: Mailbox,
  m: StoredMessage,
  saveToSentItems: boolean,
): void {
  const store = state.store;
  const outbox = mailbox.wellKnown.get('outbox')!;
  m.isDraft = false;
  store.move(mailbox, m, outbox);
  const now = Date.now();
  const at = state.limits.reserveSend(mailbox.user.id, now);
  const leave = (): void => {
    if (m.folder !== outbox) return;
    const sentMs = Date.now();
    m.sentMs = sentMs;
    store.reposition(mailbox, m, sentMs);
    const recipients = allRecipients(m);
    if (recipients.length > state.limits.limits.recipientsPerMessage)
      nonDeliveryReport(state, mailbox, m, recipients.length);
    else deliver(state, m, sentMs);
    if (!saveToSentItems) {
      store.remove(mailbox, m);
      return;
    }
    after(state, state.limits.limits.sentItemsDelayMs, () => {
      if (m.folder === outbox) store.move(mailbox, m, mailbox.wellKnown.get('sentitems')!);
    });
  };
  after(state, at - now, leave);
}

/** Runs `step` now when `ms` ≤ 0, else on a timer the sandbox clears when it closes. */
function after(state: SandboxState, ms: number, step: () => void): void {
  if (ms <= 0) {
    step();
    return;
  }
  const timer = setTimeout(() => {
    state.timers.delete(timer);
    step();
  }, ms);
  state.timers.add(timer);
}

function deliver(state: SandboxState, m: StoredMessage, sentMs: number): void {
  const seen = new Set<string>();
  for (const r of allRecipients(m)) {
    const address = r.emailAddress.address;
    const user = state.store.findUser(address) ?? state.store.findAliasOwner(address);
    if (!user || seen.has(user.id)) continue;
    seen.add(user.id);
    const box = state.store.mailbox(user.id);
    const copy = newMessage(state.store, box, box.wellKnown.get('inbox')!, {
      receivedMs: Date.now(),
      sentMs,
      createdMs: Date.now(),
      subject: m.subject,
      body: m.body,
      importance: m.importance,
      from: m.from,
      sender: m.sender,
      toRecipients: m.toRecipients,
      ccRecipients: m.ccRecipients,
      replyTo: m.replyTo,
      conversationId: m.conversationId,
      conversationIndex: m.conversationIndex,
      internetMessageId: m.internetMessageId,
      internetMessageHeaders: m.internetMessageHeaders,
      isReadReceiptRequested: m.isReadReceiptRequested,
      isDeliveryReceiptRequested: m.isDeliveryReceiptRequested,
    });
    copy.attachments = m.attachments.map((a, i) => ({
      ...a,
      id: exchangeId('AAMkADAt', `${copy.immutableId}/att/${i}`),
    }));
  }
}

function nonDeliveryReport(
  state: SandboxState,
  mailbox: Mailbox,
  m: StoredMessage,
  count: number,
): void {
  const now = Date.now();
  const postmaster: Recipient = {
    emailAddress: {
      name: 'Microsoft Outlook',
      address: `MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@${mailbox.user.mail.split('@')[1] ?? 'contoso.test'}`,
    },
  };
  newMessage(state.store, mailbox, mailbox.wellKnown.get('inbox')!, {
    receivedMs: now,
    sentMs: now,
    createdMs: now,
    subject: `Undeliverable: ${m.subject}`,
    body: {
      contentType: 'html',
      content: wrapHtml(
        `<p>Your message couldn't be delivered because it has too many recipients (${count}; the limit is ${state.limits.limits.recipientsPerMessage}).</p><p>Remote Server returned '550 5.5.3 RESOLVER.ADR.RecipLimit; too many recipients'</p>`,
      ),
    },
    from: postmaster,
    sender: postmaster,
    toRecipients: [
      { emailAddress: { name: mailbox.user.displayName, address: mailbox.user.mail } },
    ],
    importance: 'normal',
    conversationId: m.conversationId,
  });
}

/** POST /messages/{id}/send: 202, no body; the draft leaves through the Outbox into Sent Items. */
export function sendDraft(ctx: GraphContext, m: StoredMessage): GraphResponse {
  if (!m.isDraft) throw badRequest('Only draft messages can be sent.', 'ErrorInvalidOperation');
  const { from, sender } = resolveSender(ctx, m.from);
  m.from = from;
  m.sender = sender;
  validateForSend(ctx, m);
  submit(ctx.state, ctx.mailbox, m, true);
  return noContent(202);
}

function parseSaveFlag(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  // The docs' own sample sends the string "false"; Graph's OData reader accepts it.
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw badRequest(
    `Cannot convert the literal '${asText(value)}' to the expected type 'Edm.Boolean'.`,
    'RequestBodyRead',
  );
}

/** POST /sendMail: JSON `{message, saveToSentItems}` (OpenAPI casing also read) or base64 MIME. */
export function sendMail(ctx: GraphContext): GraphResponse {
  let input: MessageInput;
  let save = true;
  if (isMimeRequest(ctx.req.headers['content-type'])) {
    input = readMessagePayload(ctx.req.body.toString('utf8'));
  } else {
    const body = actionParameters(ctx, 'sendMail', ['message', 'saveToSentItems']);
    const message = body.message ?? body.Message;
    if (!isRecord(message))
      throw badRequest(
        "The parameter 'Message' is required for the operation 'sendMail'.",
        'ErrorInvalidParameter',
      );
    input = readMessagePayload(message);
    save = parseSaveFlag(body.saveToSentItems ?? body.SaveToSentItems);
  }
  return sendNew(ctx, input, save);
}

/**
 * Sends a message built from a payload (sendMail, reply): a draft that is checked, then submitted.
 * Nothing is kept when the request is rejected. `thread` puts it in an existing conversation.
 */
export function sendNew(
  ctx: GraphContext,
  input: MessageInput,
  save: boolean,
  thread: Partial<Pick<StoredMessage, 'conversationId' | 'conversationIndex'>> = {},
): GraphResponse {
  const { from, sender } = resolveSender(ctx, input.from);
  const m = newDraft(ctx, ctx.mailbox.wellKnown.get('drafts')!, thread);
  try {
    applyInput(ctx, m, { ...input, from, sender });
    validateForSend(ctx, m);
  } catch (err) {
    ctx.state.store.remove(ctx.mailbox, m);
    throw err;
  }
  submit(ctx.state, ctx.mailbox, m, save);
  return noContent(202);
}
