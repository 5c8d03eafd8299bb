import { asText } from '../util';
import type { FilterSchema, PropertyDef } from '../odata/filter';
import { EXTENDED_PROPERTIES_COLLECTION } from './extended-properties';
import type { Recipient, StoredMessage } from '../store';
import { bodyPreview } from '../views';

const addr = (r: Recipient | null): string | null => r?.emailAddress.address ?? null;
const name = (r: Recipient | null): string | null => r?.emailAddress.name ?? null;
const recipientElement: Record<string, PropertyDef<unknown>> = {
  'emailAddress/address': { type: 'string', get: (r) => (r as Recipient).emailAddress.address },
  'emailAddress/name': { type: 'string', get: (r) => (r as Recipient).emailAddress.name ?? null },
};

/** Properties usable in `$filter`/`$orderby` on messages, with their OData types. */
export const MESSAGE_SCHEMA: FilterSchema<StoredMessage> = {
  typeName: 'microsoft.graph.message',
  properties: {
    id: { type: 'string', get: (m) => m.restId },
    subject: { type: 'string', get: (m) => m.subject },
    bodyPreview: { type: 'string', get: (m) => bodyPreview(m.body) },
    conversationId: { type: 'string', get: (m) => m.conversationId },
    internetMessageId: { type: 'string', get: (m) => m.internetMessageId },
    parentFolderId: { type: 'string', get: (m) => m.folder.id },
    isRead: { type: 'boolean', get: (m) => m.isRead },
    isDraft: { type: 'boolean', get: (m) => m.isDraft },
    hasAttachments: { type: 'boolean', get: (m) => m.attachments.some((a) => !a.isInline) },
    isReadReceiptRequested: { type: 'boolean', get: (m) => m.isReadReceiptRequested },
    isDeliveryReceiptRequested: { type: 'boolean', get: (m) => m.isDeliveryReceiptRequested },
    importance: { type: 'enum', get: (m) => m.importance },
    inferenceClassification: { type: 'enum', get: (m) => m.inferenceClassification },
    'flag/flagStatus': { type: 'enum', get: (m) => asText(m.flag.flagStatus ?? 'notFlagged') },
    receivedDateTime: { type: 'datetime', get: (m) => Math.floor(m.receivedMs / 1000) * 1000 },
    sentDateTime: {
      type: 'datetime',
      get: (m) => (m.sentMs === null ? null : Math.floor(m.sentMs / 1000) * 1000),
    },
    createdDateTime: { type: 'datetime', get: (m) => Math.floor(m.createdMs / 1000) * 1000 },
    lastModifiedDateTime: {
      type: 'datetime',
      get: (m) => Math.floor(m.lastModifiedMs / 1000) * 1000,
    },
    'from/emailAddress/address': { type: 'string', get: (m) => addr(m.from) },
    'from/emailAddress/name': { type: 'string', get: (m) => name(m.from) },
    'sender/emailAddress/address': { type: 'string', get: (m) => addr(m.sender) },
    'sender/emailAddress/name': { type: 'string', get: (m) => name(m.sender) },
  },
  collections: {
    toRecipients: { element: recipientElement, get: (m) => m.toRecipients },
    ccRecipients: { element: recipientElement, get: (m) => m.ccRecipients },
    bccRecipients: { element: recipientElement, get: (m) => m.bccRecipients },
    replyTo: { element: recipientElement, get: (m) => m.replyTo },
    categories: {
      element: { '': { type: 'string', get: (c) => c as string } },
      get: (m) => m.categories,
    },
    singleValueExtendedProperties: EXTENDED_PROPERTIES_COLLECTION,
  },
};
