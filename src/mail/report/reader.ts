import { ConflictError, isErrorOf, NotFoundError, UpstreamError } from '../../core/errors';
import { type GraphResult, type MailboxGraph, type QueryValue, segment } from '../../graph/client';
import {
  listRequest,
  type MessageField,
  type Recipient as ApiRecipient,
  toMessageView,
} from '../../graph/messages';
import { dateTimeLiteral } from '../../graph/odata';
import { readPreferHeaders } from '../../graph/prefer';
import { type Recipient } from '../send-types';

/** Only what the figures need: no bodies, no previews, no headers. */
const MESSAGE_FIELDS: readonly MessageField[] = [
  'id',
  'conversationId',
  'from',
  'toRecipients',
  'receivedDateTime',
  'sentDateTime',
  'isRead',
  'subject',
];
const FOLDER_FIELDS = 'id,displayName,unreadItemCount,totalItemCount';
const PAGE_SIZE = 1000;
const SENT_ITEMS = 'sentitems';

export interface ReportMessage {
  id: string;
  conversationId: string;
  subject: string;
  from: Recipient | null;
  to: Recipient[];
  /** receivedDateTime for received mail, sentDateTime for Sent Items; epoch ms. */
  at: number;
  isRead: boolean;
  direction: 'received' | 'sent';
  /** Display name of the folder the message was read from. */
  folder: string;
}

export interface ReportFolder {
  /** As the definition names it (well-known name or id). */
  requested: string;
  id: string;
  displayName: string;
  unreadItemCount: number;
  totalItemCount: number;
}

export interface MailboxSnapshot {
  mailboxAddress: string;
  folders: ReportFolder[];
  received: ReportMessage[];
  sent: ReportMessage[];
  /** True when `maxMessages` stopped the read; the figures then cover the newest messages only. */
  truncated: boolean;
}

export interface ReadMailboxRequest {
  /** Folders to count received mail in: well-known names or ids. */
  folders: readonly string[];
  /** Received mail with `start <= receivedDateTime < end`. */
  start: number;
  end: number;
  /** Sent Items are read from `start` up to here, so replies after the period still count as responses. */
  sentUntil: number;
  /** Upper bound on messages held in memory for one report. */
  maxMessages: number;
}

interface GraphPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

interface GraphFolder {
  id: string;
  displayName?: string | null;
  unreadItemCount?: number | null;
  totalItemCount?: number | null;
}

function recipient(value: ApiRecipient | null | undefined): Recipient | null {
  if (!value?.address) return null;
  return value.name ? { address: value.address, name: value.name } : { address: value.address };
}

async function resolveFolder(graph: MailboxGraph, requested: string): Promise<ReportFolder> {
  try {
    const { body } = await graph.client.get<GraphFolder>(
      `${graph.root}/mailFolders/${segment(requested)}`,
      { query: { $select: FOLDER_FIELDS } },
    );
    return {
      requested,
      id: body.id,
      displayName: body.displayName ?? requested,
      unreadItemCount: body.unreadItemCount ?? 0,
      totalItemCount: body.totalItemCount ?? 0,
    };
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) {
      // The definition names a folder this mailbox does not have: the report, not Graph, is wrong.
      throw new ConflictError(
        'conflict',
        `The report's folder "${requested}" does not exist in mailbox ${graph.mailboxAddress}.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * The first page's request for one folder's messages in `[from, to)`. The date leads the filter
 * and is the sort key, as Graph requires of `$filter` with `$orderby` (else 400 InefficientFilter).
 */
function firstPage(
  folderId: string,
  direction: ReportMessage['direction'],
  from: number,
  to: number,
): { path: string; query: Record<string, QueryValue> } {
  if (direction === 'received') {
    return listRequest({
      folder: folderId,
      top: PAGE_SIZE,
      fields: MESSAGE_FIELDS,
      filters: { receivedAfter: new Date(from), receivedBefore: new Date(to) },
    });
  }
  // Sent Items are dated by sentDateTime, which the shared filter builder does not cover.
  const range = `sentDateTime ge ${dateTimeLiteral(new Date(from))} and sentDateTime lt ${dateTimeLiteral(new Date(to))}`;
  return {
    path: `/mailFolders/${segment(folderId)}/messages`,
    query: {
      $filter: range,
      $orderby: 'sentDateTime desc',
      $top: PAGE_SIZE,
      $select: MESSAGE_FIELDS.join(','),
    },
  };
}

/** Reads every page of one folder's window, stopping once `room` messages are held. */
async function readFolder(
  graph: MailboxGraph,
  folder: ReportFolder,
  window: { direction: ReportMessage['direction']; from: number; to: number },
  room: number,
): Promise<{ messages: ReportMessage[]; truncated: boolean }> {
  const { direction } = window;
  const messages: ReportMessage[] = [];
  const first = firstPage(folder.id, direction, window.from, window.to);
  let path: string | undefined = `${graph.root}${first.path}`;
  let query: Record<string, QueryValue> | undefined = first.query;
  while (path) {
    const page: GraphResult<GraphPage> = await graph.client.get<GraphPage>(path, {
      ...(query ? { query } : {}),
      headers: readPreferHeaders(),
    });
    const body = page.body;
    if (!Array.isArray(body?.value)) {
      throw new UpstreamError(
        'graph_error',
        'Microsoft Graph returned a message page without value.',
      );
    }
    for (const item of body.value) {
      if (messages.length >= room) return { messages, truncated: true };
      const m = toMessageView(item as Record<string, unknown>, MESSAGE_FIELDS, false);
      const stamp = direction === 'sent' ? m.sentDateTime : m.receivedDateTime;
      messages.push({
        id: m.id,
        conversationId: m.conversationId ?? m.id,
        subject: m.subject ?? '',
        from: recipient(m.from),
        to: (m.toRecipients ?? []).map(recipient).filter((r): r is Recipient => r !== null),
        at: Date.parse(stamp ?? '') || 0,
        isRead: m.isRead ?? true,
        direction,
        folder: folder.displayName,
      });
    }
    const next: unknown = body['@odata.nextLink'];
    path = typeof next === 'string' ? graph.client.nextLinkPath(next) : undefined;
    query = undefined; // the next link carries the whole query
  }
  return { messages, truncated: false };
}

/** Everything one report needs from a mailbox, read with as few and as small requests as Graph allows. */
export async function readMailbox(
  graph: MailboxGraph,
  request: ReadMailboxRequest,
): Promise<MailboxSnapshot> {
  const requested = [...new Set(request.folders)];
  const resolved = await Promise.all(requested.map((name) => resolveFolder(graph, name)));
  const sentItems =
    resolved.find((f) => f.requested.toLowerCase() === SENT_ITEMS) ??
    (await resolveFolder(graph, SENT_ITEMS));
  // Folder names and ids may denote the same folder twice; Sent Items counts as sent, never as received.
  const folders = resolved.filter((f, index) => resolved.findIndex((g) => g.id === f.id) === index);
  const receivedFolders = folders.filter((f) => f.id !== sentItems.id);

  let room = request.maxMessages;
  let truncated = false;
  const received: ReportMessage[] = [];
  for (const folder of receivedFolders) {
    const part = await readFolder(
      graph,
      folder,
      { direction: 'received', from: request.start, to: request.end },
      room,
    );
    received.push(...part.messages);
    room -= part.messages.length;
    truncated ||= part.truncated;
  }
  const sentPart = await readFolder(
    graph,
    sentItems,
    { direction: 'sent', from: request.start, to: request.sentUntil },
    room,
  );
  return {
    mailboxAddress: graph.mailboxAddress,
    folders,
    received,
    sent: sentPart.messages,
    truncated: truncated || sentPart.truncated,
  };
}
