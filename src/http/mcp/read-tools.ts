import * as z from 'zod';

import { ValidationError } from '../../core/errors';
import { emailAddress } from '../../core/validators';
import { type Readers } from '../../graph/read';
import { type MessageField, type MessageView, type Recipient } from '../../graph/messages';
import { searchPhrase } from '../../graph/odata';
import { graphIdParam, mailboxParam } from '../params';
import {
  credentialIdArg,
  credentialKey,
  defineTool,
  digest,
  offsetCursor,
  slice,
  textSlice,
  type ToolDefinition,
} from './tool';

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true };
const FOLDERS_PER_ANSWER = 100;
const ATTACHMENTS_PER_ANSWER = 50;
const PREVIEW_CHARS = 200;
const BODY_CHARS = 8_000;
const SUMMARY_FIELDS: MessageField[] = [
  'id',
  'subject',
  'from',
  'receivedDateTime',
  'isRead',
  'hasAttachments',
  'importance',
  'bodyPreview',
  'conversationId',
  'parentFolderId',
];

const mailboxArg = mailboxParam
  .optional()
  .describe('A shared mailbox (address) to use instead of the signed-in one');
const messageIdArg = graphIdParam.describe('A message id from search_messages');
/** A date (midnight UTC) or a date-time with a zone, as in the HTTP API. */
const dateArg = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    error: 'must be an ISO 8601 date (2026-01-31) or date-time with a zone',
  })
  .transform((value) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value));

const who = (r: Recipient | null | undefined): string | null =>
  !r?.address ? null : r.name && r.name !== r.address ? `${r.name} <${r.address}>` : r.address;

function summary(m: MessageView) {
  const preview = m.bodyPreview ?? '';
  return {
    id: m.id,
    subject: m.subject ?? null,
    from: who(m.from),
    received: m.receivedDateTime ?? null,
    isRead: m.isRead ?? null,
    hasAttachments: m.hasAttachments ?? null,
    ...(m.importance && m.importance !== 'normal' ? { importance: m.importance } : {}),
    preview: preview.length > PREVIEW_CHARS ? `${preview.slice(0, PREVIEW_CHARS)}…` : preview,
    conversationId: m.conversationId ?? null,
    folderId: m.parentFolderId ?? null,
  };
}

export function readTools(readers: Readers): ToolDefinition[] {
  return [
    defineTool({
      name: 'list_folders',
      route: 'GET /credentials/{credentialId}/folders',
      title: 'List mail folders',
      description: `The mailbox's folders with their paths (Inbox/Projects/2026), ids and unread/total counts, ${FOLDERS_PER_ANSWER} at a time.`,
      input: {
        credentialId: credentialIdArg,
        parentId: graphIdParam
          .optional()
          .describe('Only below this folder (id or well-known name)'),
        recursive: z.boolean().default(true).describe('Include every level (default true)'),
        includeHidden: z.boolean().default(false),
        mailbox: mailboxArg,
        cursor: offsetCursor.optional(),
      },
      annotations: { ...READ_ONLY, title: 'List mail folders' },
      async run(args, context) {
        const folders = await readers.folders.list(credentialKey(context, args.credentialId), {
          parentId: args.parentId,
          recursive: args.recursive,
          includeHidden: args.includeHidden,
          mailbox: args.mailbox,
          abortSignal: context.abortSignal,
          log: context.log,
        });
        const page = slice(folders, args.cursor ?? 0, FOLDERS_PER_ANSWER);
        return {
          folders: page.items.map((f) => ({
            id: f.id,
            path: f.path,
            ...(f.wellKnownName ? { wellKnownName: f.wellKnownName } : {}),
            unread: f.unreadItemCount,
            total: f.totalItemCount,
          })),
          more: page.more,
        };
      },
    }),
    defineTool({
      name: 'search_messages',
      route: 'GET /credentials/{credentialId}/messages',
      title: 'Search or list messages',
      description:
        'Messages newest first, as short summaries (id, subject, sender, date, read state, a 200-character preview). `query` is a free-text search and cannot be combined with the filters; without it, the filters narrow the listing. Pass `more` back as `cursor` for the next page.',
      input: {
        credentialId: credentialIdArg,
        query: z
          .string()
          .max(500)
          .refine((s) => searchPhrase(s) !== undefined, 'must contain text to search for')
          .optional()
          .describe('Free-text search over subject, body and people'),
        folder: graphIdParam
          .optional()
          .describe(
            'Folder id (from list_folders) or well-known name: inbox, sentitems, drafts, archive, …; the whole mailbox when absent',
          ),
        unread: z.boolean().optional().describe('Only unread (true) or read (false) messages'),
        from: emailAddress().optional().describe('Sender address'),
        receivedAfter: dateArg.optional().describe('On or after this date (ISO 8601)'),
        top: z.number().int().min(1).max(25).default(10).describe('Messages per answer (1–25)'),
        mailbox: mailboxArg,
        cursor: z
          .string()
          .min(1)
          .max(8192)
          .optional()
          .describe('The "more" value of the previous answer'),
      },
      annotations: { ...READ_ONLY, title: 'Search or list messages' },
      async run(args, context) {
        const filters = {
          unread: args.unread,
          from: args.from,
          receivedAfter: args.receivedAfter,
        };
        if (args.query !== undefined) {
          const combined = Object.entries(filters).find(([, v]) => v !== undefined)?.[0];
          if (combined !== undefined) {
            throw new ValidationError({
              path: combined,
              message: 'cannot be combined with query (Graph does not filter search results)',
            });
          }
        }
        // A page request may repeat the query it started with, or send the cursor alone.
        const shaping = { query: args.query, folder: args.folder, ...filters };
        const repeated = Object.values(shaping).some((v) => v !== undefined);
        const options = {
          mailbox: args.mailbox,
          queryFingerprint: args.cursor === undefined || repeated ? digest(shaping) : undefined,
          abortSignal: context.abortSignal,
          log: context.log,
        };
        const key = credentialKey(context, args.credentialId);
        const common = { folder: args.folder, top: args.top, fields: SUMMARY_FIELDS };
        const page =
          args.cursor !== undefined
            ? await readers.messages.resume(key, args.cursor, options)
            : await readers.messages.list(
                key,
                args.query !== undefined
                  ? { ...common, search: args.query }
                  : { ...common, filters },
                options,
              );
        return { messages: page.messages.map(summary), more: page.nextCursor };
      },
    }),
    defineTool({
      name: 'get_message',
      route: 'GET /credentials/{credentialId}/messages/{messageId}',
      title: 'Read a message',
      description: `One message with its body as plain text by default, ${BODY_CHARS} characters at a time (pass \`more\` back as \`cursor\` to read on).`,
      input: {
        credentialId: credentialIdArg,
        messageId: messageIdArg,
        format: z.enum(['text', 'html']).default('text').describe('Body as text (default) or html'),
        mailbox: mailboxArg,
        cursor: offsetCursor.optional(),
      },
      annotations: { ...READ_ONLY, title: 'Read a message' },
      async run(args, context) {
        const m = await readers.messages.get(
          credentialKey(context, args.credentialId),
          args.messageId,
          {
            body: args.format,
            mailbox: args.mailbox,
            abortSignal: context.abortSignal,
            log: context.log,
          },
        );
        const body = textSlice(m.body?.content ?? '', args.cursor ?? 0, BODY_CHARS);
        return {
          id: m.id,
          subject: m.subject ?? null,
          from: who(m.from),
          to: (m.toRecipients ?? []).map(who),
          cc: (m.ccRecipients ?? []).map(who),
          received: m.receivedDateTime ?? null,
          isRead: m.isRead ?? null,
          hasAttachments: m.hasAttachments ?? null,
          conversationId: m.conversationId ?? null,
          body: { contentType: m.body?.contentType ?? args.format, content: body.text },
          more: body.more,
        };
      },
    }),
    defineTool({
      name: 'list_attachments',
      route: 'GET /credentials/{credentialId}/messages/{messageId}/attachments',
      title: "List a message's attachments",
      description: `Name, type and size of a message's attachments, ${ATTACHMENTS_PER_ANSWER} at a time (content is not returned).`,
      input: {
        credentialId: credentialIdArg,
        messageId: messageIdArg,
        mailbox: mailboxArg,
        cursor: offsetCursor.optional(),
      },
      annotations: { ...READ_ONLY, title: "List a message's attachments" },
      async run(args, context) {
        const attachments = await readers.attachments.list(
          credentialKey(context, args.credentialId),
          args.messageId,
          { mailbox: args.mailbox, abortSignal: context.abortSignal, log: context.log },
        );
        const page = slice(attachments, args.cursor ?? 0, ATTACHMENTS_PER_ANSWER);
        return { attachments: page.items, more: page.more };
      },
    }),
  ];
}
