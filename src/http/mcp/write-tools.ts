import * as z from 'zod';

import { ValidationError } from '../../core/errors';
import { emailAddress } from '../../core/validators';
import { parseFolderReference } from '../../graph/folder-resolver';
import { type DraftService } from '../../mail/drafts';
import { type MessageActions } from '../../mail/message-actions';
import { type OutgoingMessage, type Recipient, type SendService } from '../../mail/send-types';
import { graphIdParam, mailboxParam } from '../params';
import { credentialIdArg, credentialKey, defineTool, digest, type ToolDefinition } from './tool';

const MAX_RECIPIENTS = 100;
const MAX_MESSAGES = 100;

const failedOnly = <T extends { status: string }>(results: T[]): T[] =>
  results.filter((r) => r.status === 'failed');

const addresses = (what: string) =>
  z
    .union([emailAddress(), z.array(emailAddress()).min(1).max(MAX_RECIPIENTS)])
    .transform((v) => (Array.isArray(v) ? v : [v]).map((address) => ({ address })))
    .describe(`${what}: one address or a list`);

/**
 * Sends are idempotent per tool call: the key is derived from the JSON-RPC id of the call, the
 * credential, the tool and the arguments, so a client repeating a call (a lost answer, a retry)
 * gets the first result and nothing is sent twice, while another call is never mistaken for it.
 */
export function toolCallKey(
  tool: string,
  credentialId: string,
  callId: string | number,
  args: unknown,
): { key: string; fingerprint: string } {
  const fingerprint = digest(args);
  return { key: `mcp.${digest([tool, credentialId, callId, fingerprint])}`, fingerprint };
}

/** A new mail, reply or forward as the send service takes it; Graph fills an answer's subject. */
function outgoing(
  fields: Pick<OutgoingMessage, 'to' | 'body' | 'contentType'> &
    Partial<Pick<OutgoingMessage, 'subject' | 'inResponseTo'>> & {
      cc?: Recipient[] | undefined;
      bcc?: Recipient[] | undefined;
      mailbox?: string | undefined;
    },
): OutgoingMessage {
  const { cc, bcc, mailbox, subject, ...rest } = fields;
  return {
    ...rest,
    cc: cc ?? [],
    bcc: bcc ?? [],
    replyTo: [],
    subject: subject ?? '',
    importance: 'normal',
    saveToSentItems: true,
    headers: {},
    attachments: [],
    ...(mailbox === undefined ? {} : { mailbox }),
  };
}

const SENDS = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: true,
  openWorldHint: true,
};

export function writeTools(deps: {
  send: SendService;
  actions: MessageActions;
  drafts: DraftService;
}): ToolDefinition[] {
  return [
    defineTool({
      name: 'send_mail',
      route: 'POST /credentials/{credentialId}/send',
      title: 'Send an email',
      description:
        'Sends a new email from the connected mailbox right away (it cannot be recalled). Repeating the same call is safe: it is sent once. For a person to review first, use create_draft where available.',
      input: {
        credentialId: credentialIdArg,
        to: addresses('Recipients'),
        cc: addresses('Cc recipients').optional(),
        bcc: addresses('Bcc recipients').optional(),
        subject: z.string().max(255),
        body: z.string().max(512 * 1024),
        contentType: z.enum(['text', 'html']).default('text'),
        mailbox: mailboxParam.optional().describe('Send from this shared mailbox (address)'),
      },
      annotations: { ...SENDS, title: 'Send an email' },
      async run(args, context) {
        const { credentialId, ...fields } = args;
        return deps.send.send(credentialKey(context, credentialId), outgoing(fields), {
          abortSignal: context.abortSignal,
          log: context.log,
          idempotency: toolCallKey('send_mail', credentialId, context.callId, args),
        });
      },
    }),
    defineTool({
      name: 'reply',
      route: 'POST /credentials/{credentialId}/messages/{messageId}/reply',
      title: 'Reply to a message',
      description:
        'Replies to the sender (or everyone with replyAll) at once, in the same conversation, above the quoted original; Graph sets the subject and recipients. Repeating the same call is safe: it is sent once.',
      input: {
        credentialId: credentialIdArg,
        messageId: graphIdParam.describe('The message answered (an id from search_messages)'),
        body: z
          .string()
          .max(512 * 1024)
          .describe('The reply, above the quoted original'),
        contentType: z.enum(['text', 'html']).default('text'),
        replyAll: z.boolean().default(false).describe('Reply to everyone on the message'),
        cc: addresses('More Cc recipients').optional(),
        bcc: addresses('Bcc recipients').optional(),
        mailbox: mailboxParam.optional().describe('The shared mailbox the message is in'),
      },
      annotations: { ...SENDS, title: 'Reply to a message' },
      async run(args, context) {
        const { credentialId, messageId, replyAll, ...fields } = args;
        const kind = replyAll ? 'replyAll' : 'reply';
        return deps.send.send(
          credentialKey(context, credentialId),
          outgoing({ ...fields, to: [], inResponseTo: { kind, messageId } }),
          {
            abortSignal: context.abortSignal,
            log: context.log,
            idempotency: toolCallKey('reply', credentialId, context.callId, args),
          },
        );
      },
    }),
    defineTool({
      name: 'forward',
      route: 'POST /credentials/{credentialId}/messages/{messageId}/forward',
      title: 'Forward a message',
      description:
        'Forwards a message with its attachments to new recipients at once, with an optional note above it. Repeating the same call is safe: it is sent once.',
      input: {
        credentialId: credentialIdArg,
        messageId: graphIdParam.describe('The message forwarded (an id from search_messages)'),
        to: addresses('Recipients'),
        cc: addresses('Cc recipients').optional(),
        bcc: addresses('Bcc recipients').optional(),
        body: z
          .string()
          .max(512 * 1024)
          .default('')
          .describe('A note above the forwarded message'),
        contentType: z.enum(['text', 'html']).default('text'),
        mailbox: mailboxParam.optional().describe('The shared mailbox the message is in'),
      },
      annotations: { ...SENDS, title: 'Forward a message' },
      async run(args, context) {
        const { credentialId, messageId, ...fields } = args;
        return deps.send.send(
          credentialKey(context, credentialId),
          outgoing({ ...fields, inResponseTo: { kind: 'forward', messageId } }),
          {
            abortSignal: context.abortSignal,
            log: context.log,
            idempotency: toolCallKey('forward', credentialId, context.callId, args),
          },
        );
      },
    }),
    defineTool({
      name: 'move_message',
      route: 'POST /credentials/{credentialId}/messages/{messageId}/move',
      title: 'Move a message to a folder',
      description:
        'Moves a message to a folder given by id, well-known name (archive, deleteditems, junkemail, …) or path (Inbox/Projects). The message keeps its id.',
      input: {
        credentialId: credentialIdArg,
        messageId: graphIdParam,
        destination: z.string().min(1).max(1024).describe('Folder id, well-known name or path'),
        mailbox: mailboxParam.optional(),
      },
      annotations: {
        title: 'Move a message to a folder',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
      },
      async run(args, context) {
        return deps.actions.move(
          credentialKey(context, args.credentialId),
          args.messageId,
          parseFolderReference(args.destination, 'destination'),
          {
            copy: false,
            mailbox: args.mailbox,
            abortSignal: context.abortSignal,
            log: context.log,
          },
        );
      },
    }),
    defineTool({
      name: 'mark_read',
      route: 'POST /credentials/{credentialId}/messages/batch',
      title: 'Mark messages read or unread',
      description: `Marks up to ${MAX_MESSAGES} messages read (or unread with read: false); each id succeeds or fails on its own.`,
      input: {
        credentialId: credentialIdArg,
        messageIds: z.array(graphIdParam).min(1).max(MAX_MESSAGES),
        read: z.boolean().default(true),
        mailbox: mailboxParam.optional(),
      },
      annotations: {
        title: 'Mark messages read or unread',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
      },
      async run(args, context) {
        const outcome = await deps.actions.batch(
          credentialKey(context, args.credentialId),
          { action: args.read ? 'markRead' : 'markUnread', messageIds: args.messageIds },
          { mailbox: args.mailbox, abortSignal: context.abortSignal, log: context.log },
        );
        if (outcome.kind === 'accepted') {
          // More than the request's time allows: a job goes on with it.
          const { jobId, status, done, pending } = outcome.job;
          return { jobId, status, done, pending, failed: failedOnly(outcome.job.results) };
        }
        return { done: outcome.result.done, failed: failedOnly(outcome.result.results) };
      },
    }),
    defineTool({
      name: 'create_draft',
      route: 'POST /credentials/{credentialId}/drafts',
      title: 'Draft an email for a person to review',
      description:
        "Saves a draft in the mailbox's Drafts folder for a person to review and send from Outlook; nothing is sent. A new mail (to, subject, body), a reply to a message (replyTo, optionally replyAll) or a forward of one (forwardOf, to). Answers the draft's id.",
      input: {
        credentialId: credentialIdArg,
        to: addresses(
          'Recipients (may be left for the reviewer; required with forwardOf)',
        ).optional(),
        cc: addresses('Cc recipients').optional(),
        bcc: addresses('Bcc recipients').optional(),
        subject: z.string().max(255).optional().describe('Subject of a new mail'),
        body: z.string().max(512 * 1024),
        contentType: z.enum(['text', 'html']).default('text'),
        replyTo: graphIdParam.optional().describe('Draft a reply to this message'),
        replyAll: z.boolean().default(false).describe('With replyTo: reply to everyone'),
        forwardOf: graphIdParam.optional().describe('Draft a forward of this message'),
        mailbox: mailboxParam.optional().describe('The shared mailbox to draft in'),
      },
      annotations: {
        title: 'Draft an email for a person to review',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
      async run(args, context) {
        const { credentialId, replyTo, replyAll, forwardOf, to, subject, ...fields } = args;
        if (replyTo !== undefined && forwardOf !== undefined) {
          throw new ValidationError({
            path: 'forwardOf',
            message: 'give replyTo or forwardOf, not both',
          });
        }
        if (forwardOf !== undefined && to === undefined) {
          throw new ValidationError({ path: 'to', message: 'a forward needs recipients' });
        }
        const inResponseTo =
          replyTo !== undefined
            ? { kind: replyAll ? ('replyAll' as const) : ('reply' as const), messageId: replyTo }
            : forwardOf !== undefined
              ? { kind: 'forward' as const, messageId: forwardOf }
              : undefined;
        const draft = await deps.drafts.create(
          credentialKey(context, credentialId),
          outgoing({
            ...fields,
            to: replyTo !== undefined ? [] : (to ?? []),
            ...(inResponseTo ? { inResponseTo } : { subject: subject ?? '' }),
          }),
          { abortSignal: context.abortSignal, log: context.log },
        );
        return {
          draftId: draft.id,
          subject: draft.subject,
          to: (draft.toRecipients ?? []).map((r) => r.address),
          cc: (draft.ccRecipients ?? []).map((r) => r.address),
          review: 'Saved in Drafts: a person can review and send it from Outlook.',
        };
      },
    }),
  ];
}
