import { badRequest, GraphError, type GraphResponse } from '../errors';
import { renderMime, isMimeRequest, parseBase64Mime } from '../mime';
import { compileFilter } from '../odata/filter';
import { compileSearch } from '../search';
import type { GraphContext, SandboxState } from '../state';
import { type Folder, type Mailbox, newAttachment, newMessage, type StoredMessage } from '../store';
import {
  ATTACHMENT_PROPERTIES,
  attachmentView,
  contextUrl,
  MESSAGE_PROPERTIES,
  messageView,
  parseSelect,
  type ViewOptions,
} from '../views';
import {
  expandedProperties,
  mergeExtendedProperties,
  parseExtendedExpand,
} from './extended-properties';
import { actionParameters, intParam, jsonBody, noContent, ok, selfLink } from './helpers';
import { messageInput, type MessageInput } from './message-input';
import { MESSAGE_SCHEMA } from './message-schema';

export function viewOptions(ctx: GraphContext, select: string[] | null): ViewOptions {
  return { select, bodyType: ctx.bodyType, immutableIds: ctx.immutableIds };
}

interface Expand {
  /** `attachments`, optionally with its own `$select`; undefined when not expanded. */
  attachments?: { select: string[] | null };
  /** Keys of the extended properties asked for by `singleValueExtendedProperties($filter=…)`. */
  extendedProperties?: Set<string>;
}

/** Splits `$expand` at top-level commas (a nested `$filter` may hold commas and parentheses). */
function expandItems(raw: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      items.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  items.push(raw.slice(start));
  return items.map((s) => s.trim());
}

/**
 * `$expand=attachments` (optionally `attachments($select=name,size)`) and
 * `singleValueExtendedProperties($filter=id eq '…')`; other navigations → 400.
 */
function parseExpand(raw: string | null): Expand {
  const out: Expand = {};
  if (raw === null || raw.trim() === '') return out;
  for (const item of expandItems(raw)) {
    const m = /^(\w+)\s*(?:\(([\s\S]*)\))?$/.exec(item);
    const name = m?.[1]?.toLowerCase();
    const options = m?.[2];
    if (name === 'attachments') {
      const select =
        options === undefined ? undefined : /^\s*\$select\s*=\s*([^)]*)$/i.exec(options);
      if (select === null)
        throw badRequest(`Invalid $expand options '${options ?? ''}'.`, 'BadRequest');
      out.attachments = {
        select:
          select === undefined
            ? null
            : parseSelect(select[1]!, ATTACHMENT_PROPERTIES, 'microsoft.graph.attachment'),
      };
    } else if (name === 'singlevalueextendedproperties') {
      out.extendedProperties = parseExtendedExpand(options);
    } else {
      throw badRequest(
        `Could not find a property named '${item.split('(')[0]!.trim()}' on type 'microsoft.graph.message'.`,
        'BadRequest',
      );
    }
  }
  return out;
}

/** A message's JSON with `$expand` applied (a property with no match is left out, as Graph does). */
function expandedView(
  ctx: GraphContext,
  m: StoredMessage,
  select: string[] | null,
  expand: Expand,
): Record<string, unknown> {
  const view = messageView(m, viewOptions(ctx, select));
  if (expand.attachments) {
    const attachmentSelect = expand.attachments.select;
    view.attachments = m.attachments.map((a) => attachmentView(a, attachmentSelect, true));
  }
  if (expand.extendedProperties) {
    const found = expandedProperties(m, expand.extendedProperties);
    if (found.length > 0) view.singleValueExtendedProperties = found;
  }
  return view;
}

/** GET …/messages/$count: the number as text/plain, honouring `$filter`. */
export function countMessages(ctx: GraphContext, folder: Folder | null): GraphResponse {
  const source = folder ? folder.messages : ctx.mailbox.all;
  const filter = ctx.req.query.get('$filter');
  const count = filter
    ? source.filter(compileFilter(filter, MESSAGE_SCHEMA).predicate).length
    : source.length;
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, raw: String(count) };
}

export function findMessage(ctx: GraphContext, id: string, folder?: Folder): StoredMessage {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(id))
    throw new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
  const m = ctx.state.store.message(ctx.mailbox, id);
  if (!m || (folder && m.folder !== folder)) {
    throw new GraphError(
      404,
      'ErrorItemNotFound',
      'The specified object was not found in the store.',
    );
  }
  return m;
}

interface OrderKey {
  path: string;
  desc: boolean;
}

function parseOrderBy(raw: string | null): OrderKey[] {
  if (!raw) return [];
  return raw.split(',').map((part) => {
    const [path, dir, extra] = part.trim().split(/\s+/);
    if (!path || extra !== undefined || (dir !== undefined && !/^(asc|desc)$/i.test(dir))) {
      throw badRequest(`Invalid $orderby clause '${raw}'.`);
    }
    const canonical = Object.keys(MESSAGE_SCHEMA.properties).find(
      (k) => k.toLowerCase() === path.toLowerCase(),
    );
    if (!canonical)
      throw badRequest(
        `Could not find a property named '${path}' on type 'microsoft.graph.message'.`,
      );
    return { path: canonical, desc: dir?.toLowerCase() === 'desc' };
  });
}

function sorter(keys: OrderKey[]): (a: StoredMessage, b: StoredMessage) => number {
  const getters = keys.map((k) => ({ get: MESSAGE_SCHEMA.properties[k.path]!.get, desc: k.desc }));
  return (a, b) => {
    for (const { get, desc } of getters) {
      const x = get(a);
      const y = get(b);
      if (x === y) continue;
      const cmp =
        x === null
          ? -1
          : y === null
            ? 1
            : typeof x === 'string'
              ? x.localeCompare(String(y), undefined, { sensitivity: 'base' })
              : Number(x) - Number(y);
      if (cmp !== 0) return desc ? -cmp : cmp;
    }
    return b.receivedMs - a.receivedMs || b.key - a.key;
  };
}

const SKIPTOKEN_PREFIX = 'search:';

/** GET /messages and /mailFolders/{id}/messages with Graph's query options and restrictions. */
export function listMessages(ctx: GraphContext, folder: Folder | null): GraphResponse {
  const q = ctx.req.query;
  const top = intParam(ctx, '$top') ?? 10;
  if (top < 1 || top > 1000)
    throw badRequest(
      `The value '${top}' of the $top query option is out of range; it must be between 1 and 1000.`,
      'ErrorInvalidUrlQuery',
    );
  const skip = intParam(ctx, '$skip');
  const select = parseSelect(q.get('$select'), MESSAGE_PROPERTIES, 'microsoft.graph.message');
  const filter = q.get('$filter');
  const orderRaw = q.get('$orderby');
  const search = q.get('$search');
  const count = (q.get('$count') ?? '').toLowerCase() === 'true';
  const source = folder ? folder.messages : ctx.mailbox.all;

  let matched: StoredMessage[];
  let offset = skip ?? 0;
  let nextChanges: Record<string, string | null>;
  if (search !== null) {
    if (orderRaw)
      throw badRequest(
        "The query parameter '$orderBy' is not supported with '$search'.",
        'SearchWithOrderBy',
      );
    if (filter)
      throw badRequest(
        "The query parameter '$filter' is not supported with '$search'.",
        'SearchWithFilter',
      );
    if (skip !== null)
      throw badRequest(
        "The query parameter '$skip' is not supported with '$search'.",
        'SearchWithSkip',
      );
    const pred = compileSearch(search);
    const token = q.get('$skiptoken');
    if (token !== null) {
      const decoded = Buffer.from(token, 'base64url').toString('utf8');
      if (
        !decoded.startsWith(SKIPTOKEN_PREFIX) ||
        !/^\d+$/.test(decoded.slice(SKIPTOKEN_PREFIX.length))
      ) {
        throw badRequest('The $skiptoken value is invalid.', 'ErrorInvalidUrlQuery');
      }
      offset = Number(decoded.slice(SKIPTOKEN_PREFIX.length));
    }
    matched = source
      .filter(pred)
      .sort((a, b) => (b.sentMs ?? b.receivedMs) - (a.sentMs ?? a.receivedMs) || b.key - a.key)
      .slice(0, ctx.state.limits.limits.searchMaxResults);
    nextChanges = {
      $skiptoken: Buffer.from(`${SKIPTOKEN_PREFIX}${offset + top}`).toString('base64url'),
    };
  } else {
    const order = parseOrderBy(orderRaw);
    matched = source;
    if (filter) {
      const compiled = compileFilter(filter, MESSAGE_SCHEMA);
      // Graph: $orderby properties must also lead the $filter, in the same order.
      const leading = compiled.properties.slice(0, order.length);
      if (order.some((o, i) => leading[i] !== o.path)) {
        throw badRequest(
          'The restriction or sort order is too complex for this operation.',
          'InefficientFilter',
        );
      }
      matched = source.filter(compiled.predicate);
    }
    const defaultOrder =
      order.length === 0 ||
      (order.length === 1 && order[0]!.path === 'receivedDateTime' && order[0]!.desc);
    if (!defaultOrder) matched = [...matched].sort(sorter(order));
    nextChanges = { $skip: String(offset + top) };
  }
  const page = matched.slice(offset, offset + top);
  const selectSuffix = select ? `(${select.join(',')})` : '';
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(
      ctx.state.origin(),
      ctx.mailbox,
      folder ? `mailFolders('${folder.id}')/messages${selectSuffix}` : `messages${selectSuffix}`,
    ),
  };
  if (count) body['@odata.count'] = matched.length;
  const expand = parseExpand(q.get('$expand'));
  body.value = page.map((m) => expandedView(ctx, m, select, expand));
  if (offset + top < matched.length) body['@odata.nextLink'] = selfLink(ctx, nextChanges);
  return ok(body);
}

export function getMessage(ctx: GraphContext, m: StoredMessage): GraphResponse {
  const select = parseSelect(
    ctx.req.query.get('$select'),
    MESSAGE_PROPERTIES,
    'microsoft.graph.message',
  );
  const selectSuffix = select ? `(${select.join(',')})` : '';
  return ok({
    '@odata.context': contextUrl(
      ctx.state.origin(),
      ctx.mailbox,
      `messages${selectSuffix}/$entity`,
    ),
    ...expandedView(ctx, m, select, parseExpand(ctx.req.query.get('$expand'))),
  });
}

export function getMessageMime(m: StoredMessage): GraphResponse {
  return { status: 200, headers: { 'Content-Type': 'text/plain' }, raw: renderMime(m) };
}

/** Renders an item attachment's payload (a message or event object) as MIME for `$value`. */
export function renderItemMime(item: Record<string, unknown>): string {
  const subject = typeof item.subject === 'string' ? item.subject : '';
  const content =
    typeof item.body === 'object' && item.body !== null && 'content' in item.body
      ? String(item.body.content)
      : '';
  return `Subject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n${content}\r\n`;
}

/** Applies writable fields to a stored message (create draft, PATCH, control API). */
export function applyInputFields(
  state: SandboxState,
  mailbox: Mailbox,
  m: StoredMessage,
  input: MessageInput,
): void {
  const { attachments, singleValueExtendedProperties, ...fields } = input;
  Object.assign(m, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
  if (singleValueExtendedProperties) {
    m.singleValueExtendedProperties = mergeExtendedProperties(
      m.singleValueExtendedProperties,
      singleValueExtendedProperties,
    );
  }
  if (attachments) {
    m.attachments = [
      ...m.attachments,
      ...attachments.map((a, i) => newAttachment(a, m.immutableId, m.attachments.length + i)),
    ];
  }
  state.store.touch(mailbox, m);
}

export function applyInput(ctx: GraphContext, m: StoredMessage, input: MessageInput): void {
  applyInputFields(ctx.state, ctx.mailbox, m, input);
}

/** Reads a message payload: JSON, or base64 MIME when `Content-Type: text/plain`. */
export function readMessagePayload(raw: unknown): MessageInput {
  if (typeof raw === 'string') {
    const mime = parseBase64Mime(raw);
    return {
      subject: mime.subject,
      body: mime.body,
      toRecipients: mime.to,
      ccRecipients: mime.cc,
      bccRecipients: mime.bcc,
      ...(mime.from ? { from: mime.from, sender: mime.from } : {}),
      attachments: mime.attachments.map((a) => ({
        kind: 'file' as const,
        name: a.name,
        contentType: a.contentType,
        isInline: false,
        contentId: null,
        bytes: a.bytes,
      })),
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw badRequest('Invalid message payload.', 'RequestBodyRead');
  return messageInput(raw as Record<string, unknown>, renderItemMime);
}

/** An empty draft, created now (create draft, sendMail, reply); `thread` joins a conversation. */
export function newDraft(
  ctx: GraphContext,
  folder: Folder,
  thread: Partial<Pick<StoredMessage, 'conversationId' | 'conversationIndex'>> = {},
): StoredMessage {
  const now = Date.now();
  return newMessage(ctx.state.store, ctx.mailbox, folder, {
    receivedMs: now,
    createdMs: now,
    sentMs: now,
    isDraft: true,
    isRead: true,
    ...thread,
  });
}

/** A message as a create/update/move answers it: the entity with its context, every default property. */
export function entityResponse(ctx: GraphContext, m: StoredMessage, status: number): GraphResponse {
  return ok(
    {
      '@odata.context': contextUrl(ctx.state.origin(), ctx.mailbox, 'messages/$entity'),
      ...messageView(m, viewOptions(ctx, null)),
    },
    status,
  );
}

/** POST /messages or /mailFolders/{id}/messages: create a draft (201, isDraft true, in Drafts by default). */
export function createDraft(ctx: GraphContext, folder: Folder | null): GraphResponse {
  const payload = isMimeRequest(ctx.req.headers['content-type'])
    ? ctx.req.body.toString('utf8')
    : jsonBody(ctx);
  const input = readMessagePayload(payload);
  const m = newDraft(ctx, folder ?? ctx.mailbox.wellKnown.get('drafts')!);
  applyInput(ctx, m, input);
  return entityResponse(ctx, m, 201);
}

/** Properties that stay writable after a message was sent or received. */
/** The message-update docs mark everything else "Updatable only if isDraft = true". */
const NON_DRAFT_WRITABLE = new Set([
  'isRead',
  'importance',
  'categories',
  'flag',
  'inferenceClassification',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'singleValueExtendedProperties',
]);

export function patchMessage(ctx: GraphContext, m: StoredMessage): GraphResponse {
  const raw = jsonBody(ctx);
  const input = messageInput(raw, renderItemMime);
  if (!m.isDraft) {
    const bad = Object.keys(input).find((k) => !NON_DRAFT_WRITABLE.has(k));
    if (bad)
      throw badRequest(
        `The property '${bad}' can only be updated on a draft message.`,
        'ErrorInvalidPropertyUpdateSentMessage',
      );
  }
  if (input.attachments)
    throw badRequest(
      "Navigation property 'attachments' cannot be updated with PATCH; POST to the attachments collection.",
      'RequestBodyRead',
    );
  applyInput(ctx, m, input);
  return entityResponse(ctx, m, 200);
}

/** DELETE: a soft delete into Recoverable Items (not visible under Deleted Items or /messages). */
export function deleteMessage(ctx: GraphContext, m: StoredMessage): GraphResponse {
  ctx.state.store.softDelete(ctx.mailbox, m);
  return noContent();
}

/** The folder named by an action's `destinationId` (a folder id or a well-known name). */
function destinationFolder(ctx: GraphContext, action: string): Folder {
  const { destinationId } = actionParameters(ctx, action, ['destinationId']);
  if (typeof destinationId !== 'string' || destinationId === '')
    throw badRequest("The parameter 'DestinationId' is required.", 'ErrorInvalidParameter');
  const dest = ctx.state.store.folder(ctx.mailbox, destinationId);
  if (!dest)
    throw new GraphError(
      404,
      'ErrorItemNotFound',
      'The specified folder could not be found in the store.',
    );
  return dest;
}

/** POST /messages/{id}/move {destinationId}: 201 with the moved message (its REST id changes). */
export function moveMessage(ctx: GraphContext, m: StoredMessage): GraphResponse {
  ctx.state.store.move(ctx.mailbox, m, destinationFolder(ctx, 'move'));
  return entityResponse(ctx, m, 201);
}

/** POST /messages/{id}/copy {destinationId}: 201 with the copy, a new item with new ids. */
export function copyMessage(ctx: GraphContext, m: StoredMessage): GraphResponse {
  const copy = ctx.state.store.copy(ctx.mailbox, m, destinationFolder(ctx, 'copy'));
  return entityResponse(ctx, copy, 201);
}

/** POST /messages/{id}/permanentDelete: 204, into the dumpster's purges (gone from the mailbox). */
export function permanentDeleteMessage(ctx: GraphContext, m: StoredMessage): GraphResponse {
  if (ctx.req.body.toString('utf8').trim() !== '')
    throw badRequest('This action does not take a request body.', 'RequestBodyRead');
  ctx.state.store.remove(ctx.mailbox, m);
  return noContent();
}
