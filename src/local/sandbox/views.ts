import { badRequest } from './errors';
import type { Folder, ItemBody, Mailbox, StoredAttachment, StoredMessage } from './store';
import { isoSeconds } from './util';

/** Options from the request that shape a message representation. */
export interface ViewOptions {
  select: string[] | null;
  bodyType: 'text' | 'html' | null;
  immutableIds: boolean;
}

export const MESSAGE_PROPERTIES = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'categories',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'subject',
  'bodyPreview',
  'importance',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'isRead',
  'isDraft',
  'webLink',
  'inferenceClassification',
  'body',
  'sender',
  'from',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'flag',
  'uniqueBody',
  'internetMessageHeaders',
] as const;
/** Returned only when selected (Graph: internetMessageHeaders and uniqueBody need `$select`). */
const SELECT_ONLY = new Set(['uniqueBody', 'internetMessageHeaders']);
const NAVIGATION = [
  'attachments',
  'extensions',
  'singleValueExtendedProperties',
  'multiValueExtendedProperties',
];

export const FOLDER_PROPERTIES = [
  'id',
  'displayName',
  'parentFolderId',
  'childFolderCount',
  'unreadItemCount',
  'totalItemCount',
  'isHidden',
] as const;

/** Parses `$select` (case-insensitive names, canonical output); unknown names → Graph's 400. */
export function parseSelect(
  raw: string | null,
  known: readonly string[],
  typeName: string,
): string[] | null {
  if (raw === null || raw.trim() === '') return null;
  const out: string[] = [];
  for (const part of raw.split(',').map((s) => s.trim())) {
    if (part === '*') return null;
    const canonical =
      known.find((k) => k.toLowerCase() === part.toLowerCase()) ??
      NAVIGATION.find((k) => k.toLowerCase() === part.toLowerCase());
    if (!canonical)
      throw badRequest(
        `Could not find a property named '${part}' on type '${typeName}'.`,
        'RequestBroker--ParseUri',
      );
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

const HTML_HEAD =
  '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n<meta content="text/html; charset=us-ascii">\r\n</head>\r\n<body>\r\n';

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** HTML → text roughly like Exchange: block elements become line breaks, tags go, entities decode. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(head|style|script)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\r\n')
    .replace(/<\/(p|div|tr|h[1-6]|li|table)>/gi, '\r\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (m, e: string) => {
      if (e.startsWith('#x') || e.startsWith('#X'))
        return String.fromCodePoint(parseInt(e.slice(2), 16));
      if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/^\s*\r?\n/, '')
    .replace(/[ \t]+\r\n/g, '\r\n');
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** How Exchange stores an HTML body posted by a client: wrapped in a full document. */
export function wrapHtml(fragment: string): string {
  if (/<html[\s>]/i.test(fragment)) return fragment;
  return `${HTML_HEAD}${fragment}\r\n</body>\r\n</html>\r\n`;
}

export function textToHtml(text: string): string {
  return wrapHtml(`<div>${escapeHtml(text).replace(/\r?\n/g, '<br>\r\n')}</div>`);
}

export function renderBody(body: ItemBody, want: 'text' | 'html' | null): ItemBody {
  if (want === null || want === body.contentType) return body;
  return want === 'text'
    ? { contentType: 'text', content: htmlToText(body.content) }
    : { contentType: 'html', content: textToHtml(body.content) };
}

export function bodyPreview(body: ItemBody): string {
  const text = body.contentType === 'html' ? htmlToText(body.content) : body.content;
  return text.trim().slice(0, 255);
}

const recipientOut = (r: {
  emailAddress: { name?: string; address: string };
}): Record<string, unknown> => ({
  emailAddress: {
    name: r.emailAddress.name ?? r.emailAddress.address,
    address: r.emailAddress.address,
  },
});

/** Graph's JSON for a message, honouring `$select` and the Prefer headers. */
export function messageView(m: StoredMessage, opts: ViewOptions): Record<string, unknown> {
  const id = opts.immutableIds ? m.immutableId : m.restId;
  const all: Record<string, () => unknown> = {
    id: () => id,
    createdDateTime: () => isoSeconds(m.createdMs),
    lastModifiedDateTime: () => isoSeconds(m.lastModifiedMs),
    changeKey: () => m.changeKey,
    categories: () => [...m.categories],
    receivedDateTime: () => isoSeconds(m.receivedMs),
    sentDateTime: () => (m.sentMs === null ? null : isoSeconds(m.sentMs)),
    hasAttachments: () => m.attachments.some((a) => !a.isInline),
    internetMessageId: () => m.internetMessageId,
    subject: () => m.subject,
    bodyPreview: () => bodyPreview(m.body),
    importance: () => m.importance,
    parentFolderId: () => m.folder.id,
    conversationId: () => m.conversationId,
    conversationIndex: () => m.conversationIndex,
    isDeliveryReceiptRequested: () => m.isDeliveryReceiptRequested,
    isReadReceiptRequested: () => m.isReadReceiptRequested,
    isRead: () => m.isRead,
    isDraft: () => m.isDraft,
    webLink: () =>
      `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    inferenceClassification: () => m.inferenceClassification,
    body: () => renderBody(m.body, opts.bodyType),
    uniqueBody: () => renderBody(m.body, opts.bodyType),
    sender: () => (m.sender ? recipientOut(m.sender) : undefined),
    from: () => (m.from ? recipientOut(m.from) : undefined),
    toRecipients: () => m.toRecipients.map(recipientOut),
    ccRecipients: () => m.ccRecipients.map(recipientOut),
    bccRecipients: () => m.bccRecipients.map(recipientOut),
    replyTo: () => m.replyTo.map(recipientOut),
    flag: () => m.flag,
    internetMessageHeaders: () => m.internetMessageHeaders.map((h) => ({ ...h })),
  };
  const out: Record<string, unknown> = { '@odata.etag': `W/"${m.changeKey}"` };
  const names = opts.select ?? MESSAGE_PROPERTIES.filter((p) => !SELECT_ONLY.has(p));
  if (opts.select && !names.includes('id')) out.id = id;
  for (const name of names) {
    const get = all[name];
    if (!get) continue;
    const value = get();
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function folderView(f: Folder, select: string[] | null): Record<string, unknown> {
  let unread = 0;
  for (const m of f.messages) if (!m.isRead) unread++;
  const all: Record<string, unknown> = {
    id: f.id,
    displayName: f.displayName,
    parentFolderId: f.parentId,
    childFolderCount: f.children.length,
    unreadItemCount: unread,
    totalItemCount: f.messages.length,
    isHidden: f.isHidden,
  };
  if (!select) return all;
  const out: Record<string, unknown> = { id: f.id };
  for (const s of select) if (s in all) out[s] = all[s];
  return out;
}

export const ATTACHMENT_PROPERTIES = [
  'id',
  'lastModifiedDateTime',
  'name',
  'contentType',
  'size',
  'isInline',
  'contentId',
  'contentLocation',
  'contentBytes',
  'item',
] as const;

export function attachmentView(
  a: StoredAttachment,
  select: string[] | null,
  withContent: boolean,
): Record<string, unknown> {
  const file = a.kind === 'file';
  const all: Record<string, unknown> = {
    '@odata.type': file ? '#microsoft.graph.fileAttachment' : '#microsoft.graph.itemAttachment',
    ...(file ? { '@odata.mediaContentType': a.contentType ?? 'application/octet-stream' } : {}),
    id: a.id,
    lastModifiedDateTime: isoSeconds(a.lastModifiedMs),
    name: a.name,
    contentType: a.contentType,
    size: a.bytes.length,
    isInline: a.isInline,
    ...(file ? { contentId: a.contentId, contentLocation: null } : {}),
    ...(file && withContent ? { contentBytes: a.bytes.toString('base64') } : {}),
  };
  if (!select) return all;
  const out: Record<string, unknown> = { '@odata.type': all['@odata.type'], id: a.id };
  if (file) out['@odata.mediaContentType'] = all['@odata.mediaContentType'];
  for (const s of select) if (s in all) out[s] = all[s];
  return out;
}

export function contextUrl(base: string, mailbox: Mailbox, tail: string): string {
  return `${base}/v1.0/$metadata#users('${encodeURIComponent(mailbox.user.id)}')/${tail}`;
}
