import * as z from 'zod';

import { UpstreamError, ValidationError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';
import { type GraphFactory, type QueryValue, segment } from './client';
import { type CursorBinding, type CursorCodec } from './cursor';
import { andFilter, bool, dateTime, eq, type FilterClause, searchPhrase, str } from './odata';
import { type BodyFormat, readPreferHeaders } from './prefer';

/** The message fields the API returns (besides `body`), in the order it documents them. */
export const MESSAGE_FIELDS = [
  'id',
  'internetMessageId',
  'conversationId',
  'subject',
  'from',
  'toRecipients',
  'ccRecipients',
  'receivedDateTime',
  'sentDateTime',
  'isRead',
  'hasAttachments',
  'importance',
  'bodyPreview',
  'parentFolderId',
] as const;
export type MessageField = (typeof MESSAGE_FIELDS)[number];

/**
 * Graph item ids (and folder ids, well-known names, attachment ids): base64-like text. Checked
 * loosely so a typo fails here rather than at Graph; the id is still always URL-encoded.
 */
export const GRAPH_ID = /^[A-Za-z0-9_=+/-]{1,512}$/;

export interface Recipient {
  name: string | null;
  address: string | null;
}

export interface MessageView {
  id: string;
  internetMessageId?: string | null;
  conversationId?: string | null;
  subject?: string | null;
  from?: Recipient | null;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  receivedDateTime?: string | null;
  sentDateTime?: string | null;
  isRead?: boolean | null;
  hasAttachments?: boolean | null;
  importance?: string | null;
  bodyPreview?: string | null;
  parentFolderId?: string | null;
  body?: { contentType: string; content: string };
}

export interface MessageFilters {
  unread?: boolean | undefined;
  /** Sender address, matched exactly (case-insensitive at Graph). */
  from?: string | undefined;
  /** Inclusive lower bound (`ge`). */
  receivedAfter?: Date | undefined;
  /** Exclusive upper bound (`lt`). */
  receivedBefore?: Date | undefined;
  hasAttachments?: boolean | undefined;
  /** Substring of the subject. */
  subject?: string | undefined;
  /** One thread, across folders. */
  conversationId?: string | undefined;
}

interface ListCommon {
  /** Folder id or well-known name; the whole mailbox when absent. */
  folder?: string | undefined;
  /** 1–1000 messages per page. */
  top: number;
  /** Fields to return; `id` is always included. */
  fields: readonly MessageField[];
  /** Include the body in this format. */
  body?: BodyFormat | undefined;
  /** Oldest first (threads read top to bottom); newest first by default. */
  oldestFirst?: boolean | undefined;
}

/** Graph cannot combine `$search` with `$filter` or `$orderby`, so a listing is one or the other. */
export type ListMessagesQuery = ListCommon &
  ({ search: string; filters?: undefined } | { search?: undefined; filters: MessageFilters });

export interface ReadOptions {
  /** Shared mailbox (UPN) to read instead of the credential's own. */
  mailbox?: string | undefined;
  /** Fingerprint of the caller's query parameters (see `MessageCursorState.query`). */
  queryFingerprint?: string | undefined;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export interface MessagePage {
  messages: MessageView[];
  nextCursor: string | null;
}

/** What a cursor carries: Graph's next link plus what must be re-sent with it. */
export const messageCursorSchema = z.strictObject({
  link: z.string().min(1).max(6000),
  fields: z.array(z.enum(MESSAGE_FIELDS)).min(1),
  body: z.enum(['text', 'html']).optional(),
  /** Fingerprint of the caller's query, so a page request may repeat it but not change it. */
  query: z.string().max(64).optional(),
});
export type MessageCursorState = z.output<typeof messageCursorSchema>;

export interface MessageReader {
  list(key: CredentialKey, query: ListMessagesQuery, options: ReadOptions): Promise<MessagePage>;
  /** The next page; the cursor is verified before anything is sent to Graph. */
  resume(key: CredentialKey, cursor: string, options: ReadOptions): Promise<MessagePage>;
  get(
    key: CredentialKey,
    messageId: string,
    options: ReadOptions & { body: BodyFormat },
  ): Promise<MessageView>;
}

/** The oldest date Exchange stores; leads the filter when the caller set no lower bound. */
const EPOCH = new Date('1900-01-01T00:00:00Z');

/**
 * The `$filter` for our filters. Graph wants `$orderby` properties first in `$filter`
 * (InefficientFilter otherwise), so a `receivedDateTime` bound always leads.
 */
export function messageFilter(filters: MessageFilters): string | undefined {
  if (Object.values(filters).every((v) => v === undefined)) return undefined;
  const clauses: FilterClause[] = [];
  if (filters.unread !== undefined) clauses.push(eq('isRead', bool(!filters.unread)));
  if (filters.from !== undefined) clauses.push(eq('from/emailAddress/address', str(filters.from)));
  if (filters.hasAttachments !== undefined) {
    clauses.push(eq('hasAttachments', bool(filters.hasAttachments)));
  }
  if (filters.subject !== undefined) {
    clauses.push({ op: 'contains', property: 'subject', value: filters.subject });
  }
  if (filters.conversationId !== undefined) {
    clauses.push(eq('conversationId', str(filters.conversationId)));
  }
  const bounds: FilterClause[] = [
    { op: 'ge', property: 'receivedDateTime', value: dateTime(filters.receivedAfter ?? EPOCH) },
  ];
  if (filters.receivedBefore !== undefined) {
    bounds.push({
      op: 'lt',
      property: 'receivedDateTime',
      value: dateTime(filters.receivedBefore),
    });
  }
  return andFilter([...bounds, ...clauses]);
}

/** `id` first, always: the rest of the API needs it even when the caller narrowed `select`. */
function withId(fields: readonly MessageField[]): MessageField[] {
  return ['id', ...fields.filter((f) => f !== 'id')];
}

/** The Graph request for a first page: path below the mailbox root, query options and headers. */
export function listRequest(query: ListMessagesQuery): {
  path: string;
  query: Record<string, QueryValue>;
} {
  const path = query.folder ? `/mailFolders/${segment(query.folder)}/messages` : '/messages';
  const select = [...withId(query.fields), ...(query.body ? ['body'] : [])].join(',');
  if (query.search !== undefined) {
    const phrase = searchPhrase(query.search);
    if (phrase === undefined) throw new RangeError('Search text has no searchable characters.');
    return { path, query: { $search: phrase, $top: query.top, $select: select } };
  }
  return {
    path,
    query: {
      $filter: messageFilter(query.filters),
      $orderby: query.oldestFirst ? 'receivedDateTime asc' : 'receivedDateTime desc',
      $top: query.top,
      $select: select,
    },
  };
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function recipient(value: unknown): Recipient | null {
  const address = (value as { emailAddress?: { name?: unknown; address?: unknown } } | null)
    ?.emailAddress;
  if (!address) return null;
  return { name: text(address.name), address: text(address.address) };
}

export function recipients(value: unknown): Recipient[] {
  return Array.isArray(value) ? value.map(recipient).filter((r): r is Recipient => r !== null) : [];
}

/** Graph's message JSON → ours: recipients flattened, absent values null, only the asked fields. */
export function toMessageView(
  graph: Record<string, unknown>,
  fields: readonly MessageField[],
  withBody: boolean,
): MessageView {
  const id = text(graph.id);
  if (id === null)
    throw new UpstreamError('graph_error', 'Microsoft Graph returned a message without id.');
  const out: MessageView = { id };
  for (const field of fields) {
    const value = graph[field];
    switch (field) {
      case 'id':
        break;
      case 'from':
        out.from = recipient(value);
        break;
      case 'toRecipients':
      case 'ccRecipients':
        out[field] = recipients(value);
        break;
      case 'isRead':
      case 'hasAttachments':
        out[field] = typeof value === 'boolean' ? value : null;
        break;
      default:
        out[field] = text(value);
    }
  }
  if (withBody) {
    const body = graph.body as { contentType?: unknown; content?: unknown } | undefined;
    out.body = {
      contentType: text(body?.contentType)?.toLowerCase() ?? 'html',
      content: text(body?.content) ?? '',
    };
  }
  return out;
}

interface GraphMessagePage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

/**
 * Lists and reads messages. Every page is asked with `$select` of exactly our fields and `$top`
 * up to 1000; the next page is handed out as a signed cursor around Graph's own next link.
 */
export function createMessageReader(deps: {
  graph: GraphFactory<CredentialKey>;
  cursors: CursorCodec<MessageCursorState>;
}): MessageReader {
  const bindingOf = (key: CredentialKey, options: ReadOptions): CursorBinding => ({
    ...key,
    mailbox: options.mailbox,
  });

  async function page(
    key: CredentialKey,
    options: ReadOptions,
    state: Omit<MessageCursorState, 'link'>,
    target: (
      root: string,
      nextLinkPath: (link: string) => string,
    ) => {
      path: string;
      query?: Record<string, QueryValue>;
    },
  ): Promise<MessagePage> {
    const { client, root } = await deps.graph.forCredential(key, options);
    const request = target(root, (link) => client.nextLinkPath(link));
    const { body } = await client.get<GraphMessagePage>(request.path, {
      ...(request.query ? { query: request.query } : {}),
      headers: readPreferHeaders(state.body),
    });
    if (!Array.isArray(body?.value)) {
      throw new UpstreamError(
        'graph_error',
        'Microsoft Graph returned a message page without value.',
      );
    }
    const messages = body.value.map((item) =>
      toMessageView(item as Record<string, unknown>, state.fields, state.body !== undefined),
    );
    const link = body['@odata.nextLink'];
    let nextCursor: string | null = null;
    if (typeof link === 'string') {
      client.nextLinkPath(link); // refuse to hand out a cursor we would refuse to follow
      nextCursor = await deps.cursors.seal(bindingOf(key, options), { ...state, link });
    }
    return { messages, nextCursor };
  }

  return {
    list(key, query, options) {
      const request = listRequest(query);
      const fields = withId(query.fields);
      return page(
        key,
        options,
        {
          fields,
          ...(query.body ? { body: query.body } : {}),
          ...(options.queryFingerprint ? { query: options.queryFingerprint } : {}),
        },
        (root) => ({
          path: `${root}${request.path}`,
          query: request.query,
        }),
      );
    },
    async resume(key, cursor, options) {
      const { link, ...state } = await deps.cursors.open(bindingOf(key, options), cursor);
      if (options.queryFingerprint !== undefined && options.queryFingerprint !== state.query) {
        throw new ValidationError({
          path: 'query.cursor',
          message:
            'was issued for another query: repeat the same parameters or send the cursor alone',
        });
      }
      return page(key, options, state, (_root, nextLinkPath) => ({ path: nextLinkPath(link) }));
    },
    async get(key, messageId, options) {
      const { client, root } = await deps.graph.forCredential(key, options);
      const { body } = await client.get<Record<string, unknown>>(
        `${root}/messages/${segment(messageId)}`,
        {
          query: { $select: [...MESSAGE_FIELDS, 'body'].join(',') },
          headers: readPreferHeaders(options.body),
        },
      );
      return toMessageView(body, MESSAGE_FIELDS, true);
    },
  };
}
