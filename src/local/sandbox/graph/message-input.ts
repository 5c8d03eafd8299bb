import { badRequest, GraphError } from '../errors';
import { guessContentType } from '../mime';
import type {
  ExtendedProperty,
  InternetMessageHeader,
  ItemBody,
  Recipient,
  StoredAttachment,
} from '../store';
import { asText, isRecord } from '../util';
import { wrapHtml } from '../views';
import { extendedPropertiesInput } from './extended-properties';

/** Message fields a client may write (JSON create/PATCH/sendMail). */
export interface MessageInput {
  subject?: string;
  body?: ItemBody;
  importance?: 'low' | 'normal' | 'high';
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  from?: Recipient | null;
  sender?: Recipient | null;
  internetMessageHeaders?: InternetMessageHeader[];
  categories?: string[];
  flag?: Record<string, unknown>;
  isRead?: boolean;
  isDeliveryReceiptRequested?: boolean;
  isReadReceiptRequested?: boolean;
  inferenceClassification?: 'focused' | 'other';
  attachments?: Array<Omit<StoredAttachment, 'id' | 'lastModifiedMs'>>;
  singleValueExtendedProperties?: ExtendedProperty[];
}

/** Read-only or server-set properties Graph ignores on input instead of failing. */
const IGNORED = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'receivedDateTime',
  'sentDateTime',
  'hasAttachments',
  'internetMessageId',
  'bodyPreview',
  'parentFolderId',
  'conversationId',
  'conversationIndex',
  'isDraft',
  'webLink',
  'uniqueBody',
  '@odata.type',
  '@odata.etag',
  '@odata.context',
]);

const invalidProperty = (name: string): GraphError =>
  badRequest(
    `The property '${name}' does not exist on type 'microsoft.graph.message'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
    'RequestBodyRead',
  );

function recipients(value: unknown, prop: string): Recipient[] {
  if (value === null) return [];
  if (!Array.isArray(value))
    throw badRequest(
      `Invalid value for property '${prop}': a collection is expected.`,
      'RequestBodyRead',
    );
  return value.map((r) => recipient(r, prop)!);
}

function recipient(value: unknown, prop: string): Recipient | null {
  if (value === null) return null;
  const email = isRecord(value) ? value.emailAddress : undefined;
  if (!isRecord(email) || typeof email.address !== 'string') {
    throw badRequest(
      `Invalid recipient in '${prop}': emailAddress.address is required.`,
      'ErrorInvalidRecipients',
    );
  }
  return {
    emailAddress: {
      ...(typeof email.name === 'string' ? { name: email.name } : {}),
      address: email.address,
    },
  };
}

/** Graph rules for internetMessageHeaders: only `x-` names, at most 5, never an empty collection. */
function headers(value: unknown): InternetMessageHeader[] {
  if (!Array.isArray(value))
    throw badRequest("Invalid value for property 'internetMessageHeaders'.", 'RequestBodyRead');
  if (value.length === 0) {
    throw badRequest(
      'The internet message header collection should not be empty.',
      'InvalidInternetMessageHeaderCollection',
    );
  }
  if (value.length > 5) {
    throw badRequest(
      'Maximum number of headers in one message should be less than or equal to 5.',
      'InvalidInternetMessageHeaderCollection',
    );
  }
  return value.map((h) => {
    if (!isRecord(h) || typeof h.name !== 'string' || typeof h.value !== 'string') {
      throw badRequest(
        'An internet message header must have a name and a value.',
        'InvalidInternetMessageHeader',
      );
    }
    if (!/^x-/i.test(h.name)) {
      throw badRequest(
        `The internet message header name '${h.name}' should start with 'x-' or 'X-'.`,
        'InvalidInternetMessageHeader',
      );
    }
    return { name: h.name, value: h.value };
  });
}

export function body(value: unknown): ItemBody {
  if (!isRecord(value)) throw badRequest("Invalid value for property 'body'.", 'RequestBodyRead');
  const type = asText(value.contentType ?? 'text').toLowerCase();
  if (type !== 'text' && type !== 'html') {
    throw badRequest(
      `Requested value '${asText(value.contentType)}' was not found.`,
      'RequestBodyRead',
    );
  }
  const content = typeof value.content === 'string' ? value.content : '';
  return type === 'html'
    ? { contentType: 'html', content: wrapHtml(content) }
    : { contentType: 'text', content };
}

/** Parses one attachment object (fileAttachment or itemAttachment) from JSON. */
export function attachmentInput(
  value: unknown,
  renderItem: (item: Record<string, unknown>) => string,
): Omit<StoredAttachment, 'id' | 'lastModifiedMs'> {
  if (!isRecord(value)) throw badRequest('Invalid attachment payload.', 'RequestBodyRead');
  const type = asText(value['@odata.type'] ?? '')
    .replace(/^#/, '')
    .toLowerCase();
  const name = typeof value.name === 'string' ? value.name : null;
  if (type === 'microsoft.graph.fileattachment') {
    if (typeof value.contentBytes !== 'string')
      throw badRequest(
        "The property 'contentBytes' is required for a file attachment.",
        'ErrorInvalidParameter',
      );
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value.contentBytes.replace(/\s+/g, ''))) {
      throw badRequest('Invalid base64 string for contentBytes.', 'ErrorInvalidParameter');
    }
    const fileName = name ?? 'attachment';
    return {
      kind: 'file',
      name: fileName,
      contentType:
        typeof value.contentType === 'string'
          ? value.contentType
          : guessContentType(fileName, value.contentBytes),
      isInline: value.isInline === true,
      contentId: typeof value.contentId === 'string' ? value.contentId : null,
      bytes: Buffer.from(value.contentBytes, 'base64'),
    };
  }
  if (type === 'microsoft.graph.itemattachment') {
    if (!isRecord(value.item))
      throw badRequest(
        "The property 'item' is required for an item attachment.",
        'ErrorInvalidParameter',
      );
    return {
      kind: 'item',
      name: name ?? asText(value.item.subject ?? 'item'),
      contentType: null,
      isInline: value.isInline === true,
      contentId: null,
      bytes: Buffer.from(renderItem(value.item)),
      item: value.item,
    };
  }
  if (type === 'microsoft.graph.referenceattachment') {
    throw new GraphError(
      400,
      'ErrorInvalidRequest',
      'Reference attachments are not supported on messages in this mailbox.',
    );
  }
  throw badRequest(
    'A type name was not provided for the attachment. Specify @odata.type: #microsoft.graph.fileAttachment or #microsoft.graph.itemAttachment.',
    'RequestBodyRead',
  );
}

const IMPORTANCE = ['low', 'normal', 'high'] as const;

/** Validates and converts a JSON message object; unknown properties fail like Graph's OData reader. */
export function messageInput(
  raw: Record<string, unknown>,
  renderItem: (item: Record<string, unknown>) => string,
): MessageInput {
  const out: MessageInput = {};
  for (const [key, value] of Object.entries(raw)) {
    if (IGNORED.has(key) || key.startsWith('@odata.')) continue;
    switch (key) {
      case 'subject':
        out.subject = value === null ? '' : asText(value);
        break;
      case 'body':
        out.body = body(value);
        break;
      case 'importance': {
        const v = asText(value).toLowerCase();
        const match = IMPORTANCE.find((i) => i === v);
        if (!match)
          throw badRequest(`Requested value '${asText(value)}' was not found.`, 'RequestBodyRead');
        out.importance = match;
        break;
      }
      case 'toRecipients':
      case 'ccRecipients':
      case 'bccRecipients':
      case 'replyTo':
        out[key] = recipients(value, key);
        break;
      case 'from':
      case 'sender':
        out[key] = recipient(value, key);
        break;
      case 'internetMessageHeaders':
        out.internetMessageHeaders = headers(value);
        break;
      case 'categories':
        if (!Array.isArray(value))
          throw badRequest("Invalid value for property 'categories'.", 'RequestBodyRead');
        out.categories = value.map(String);
        break;
      case 'flag':
        if (!isRecord(value))
          throw badRequest("Invalid value for property 'flag'.", 'RequestBodyRead');
        out.flag = value;
        break;
      case 'isRead':
      case 'isDeliveryReceiptRequested':
      case 'isReadReceiptRequested':
        if (typeof value !== 'boolean')
          throw badRequest(
            `Cannot convert the literal '${asText(value)}' to the expected type 'Edm.Boolean'.`,
            'RequestBodyRead',
          );
        out[key] = value;
        break;
      case 'inferenceClassification':
        if (value !== 'focused' && value !== 'other')
          throw badRequest(`Requested value '${asText(value)}' was not found.`, 'RequestBodyRead');
        out.inferenceClassification = value;
        break;
      case 'attachments':
        if (!Array.isArray(value))
          throw badRequest("Invalid value for property 'attachments'.", 'RequestBodyRead');
        out.attachments = value.map((a) => attachmentInput(a, renderItem));
        break;
      case 'singleValueExtendedProperties':
        out.singleValueExtendedProperties = extendedPropertiesInput(value);
        break;
      default:
        throw invalidProperty(key);
    }
  }
  return out;
}
