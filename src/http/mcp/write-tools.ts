import * as z from 'zod';

import { emailAddress } from '../../core/validators';
import { parseFolderReference } from '../../graph/folder-resolver';
import { type MessageActions } from '../../mail/message-actions';
import { type OutgoingMessage, type SendService } from '../../mail/send-types';
import { graphIdParam, mailboxParam } from '../params';
import { credentialIdArg, credentialKey, defineTool, digest, type ToolDefinition } from './tool';

const MAX_RECIPIENTS = 100;
const MAX_MESSAGES = 100;

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

export function writeTools(deps: { send: SendService; actions: MessageActions }): ToolDefinition[] {
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
      annotations: {
        title: 'Send an email',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: true,
      },
      async run(args, context) {
        const message: OutgoingMessage = {
          to: args.to,
          cc: args.cc ?? [],
          bcc: args.bcc ?? [],
          replyTo: [],
          subject: args.subject,
          body: args.body,
          contentType: args.contentType,
          importance: 'normal',
          saveToSentItems: true,
          headers: {},
          attachments: [],
          ...(args.mailbox === undefined ? {} : { mailbox: args.mailbox }),
        };
        return deps.send.send(credentialKey(context, args.credentialId), message, {
          abortSignal: context.abortSignal,
          log: context.log,
          idempotency: toolCallKey('send_mail', args.credentialId, context.callId, args),
        });
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
        return {
          done: outcome.done,
          failed: outcome.results.filter((r) => r.status === 'failed'),
        };
      },
    }),
  ];
}
