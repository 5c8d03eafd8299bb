import { isErrorOf, UpstreamError } from '../core/errors';
import { type GraphClient, segment } from './client';
import { MESSAGE_FIELDS } from './messages';

/**
 * Graph change-notification subscriptions on one mail folder and the folder's delta query, as
 * Microsoft documents them ("Change notifications for Outlook resources", "Get incremental changes
 * to messages in a folder"). Notifications never carry the change: it is always read with delta.
 */

/** Mail subscriptions last at most 10,080 minutes; ask a little less so clocks never disagree. */
export const MAX_SUBSCRIPTION_MINUTES = 10_080;
const REQUESTED_MINUTES = MAX_SUBSCRIPTION_MINUTES - 30;

export interface GraphSubscription {
  id: string;
  expirationDateTime: string;
}

export interface CreateSubscriptionInput {
  /** `/me` or `/users/{upn}`. */
  root: string;
  folderId: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  clientState: string;
}

export function subscriptionExpiry(now = Date.now()): string {
  return new Date(now + REQUESTED_MINUTES * 60_000).toISOString();
}

export async function createSubscription(
  client: GraphClient,
  input: CreateSubscriptionInput,
): Promise<GraphSubscription> {
  const resource = `${input.root.replace(/^\//, '')}/mailFolders('${input.folderId.replace(/'/g, "''")}')/messages`;
  const { body } = await client.json<GraphSubscription>('POST', '/subscriptions', {
    body: {
      changeType: 'created,updated,deleted',
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl,
      resource,
      expirationDateTime: subscriptionExpiry(),
      clientState: input.clientState,
      latestSupportedTlsVersion: 'v1_2',
    },
  });
  return body;
}

/** Renewing also reauthorizes the subscription (documented). */
export async function renewSubscription(
  client: GraphClient,
  subscriptionId: string,
): Promise<GraphSubscription> {
  const { body } = await client.json<GraphSubscription>(
    'PATCH',
    `/subscriptions/${segment(subscriptionId)}`,
    { body: { expirationDateTime: subscriptionExpiry() } },
  );
  return body;
}

export async function deleteSubscription(
  client: GraphClient,
  subscriptionId: string,
): Promise<void> {
  await client.send('DELETE', `/subscriptions/${segment(subscriptionId)}`);
}

/** Fields read by delta: every field an event may carry (callers pick theirs from these). */
export const DELTA_FIELDS = MESSAGE_FIELDS;

export type DeltaItem =
  | { kind: 'removed'; id: string }
  | { kind: 'message'; id: string; changeKey: string | null; message: Record<string, unknown> };

export interface DeltaPage {
  items: DeltaItem[];
  /** Set on the last page of a round: where the next round starts. */
  deltaLink?: string;
  nextLink?: string;
}

/** Graph forgot the sync state (410 `syncStateNotFound` / `resyncRequired`): start a new round. */
export class DeltaResyncRequiredError extends Error {
  override name = 'DeltaResyncRequiredError' as const;
}

/** The first request of a round for a folder: query options go here only (Graph keeps them in the links). */
export function deltaStart(root: string, folderId: string): string {
  return `${root}/mailFolders/${segment(folderId)}/messages/delta?$select=${[...DELTA_FIELDS, 'changeKey'].join(',')}`;
}

const PAGE_SIZE = 200;

/**
 * One page of a delta round: `link` is `deltaStart(...)` or a next/delta link Graph returned (sent
 * back unaltered). A 410 throws DeltaResyncRequiredError.
 */
export async function deltaPage(client: GraphClient, link: string): Promise<DeltaPage> {
  const path = link.startsWith('http') ? client.nextLinkPath(link) : link;
  let body: Record<string, unknown>;
  try {
    ({ body } = await client.get<Record<string, unknown>>(path, {
      headers: { prefer: `odata.maxpagesize=${PAGE_SIZE}` },
    }));
  } catch (error) {
    if (isErrorOf(error, UpstreamError) && error.upstreamStatus === 410)
      throw new DeltaResyncRequiredError('Graph no longer knows this delta token.', {
        cause: error,
      });
    throw error;
  }
  const value = Array.isArray(body.value) ? (body.value as Array<Record<string, unknown>>) : [];
  const items: DeltaItem[] = [];
  for (const entry of value) {
    if (typeof entry.id !== 'string') continue;
    if (entry['@removed'] !== undefined) items.push({ kind: 'removed', id: entry.id });
    else
      items.push({
        kind: 'message',
        id: entry.id,
        changeKey: typeof entry.changeKey === 'string' ? entry.changeKey : etagKey(entry),
        message: entry,
      });
  }
  return {
    items,
    ...(typeof body['@odata.deltaLink'] === 'string'
      ? { deltaLink: body['@odata.deltaLink'] }
      : {}),
    ...(typeof body['@odata.nextLink'] === 'string' ? { nextLink: body['@odata.nextLink'] } : {}),
  };
}

/** Graph's `@odata.etag` is `W/"<changeKey>"`. */
function etagKey(entry: Record<string, unknown>): string | null {
  const etag = entry['@odata.etag'];
  if (typeof etag !== 'string') return null;
  return /^W\/"(.*)"$/.exec(etag)?.[1] ?? etag;
}

/** The id of a folder given by id or well-known name (Graph resolves both the same way). */
export async function folderIdOf(
  client: GraphClient,
  root: string,
  idOrName: string,
): Promise<string> {
  const { body } = await client.get<{ id?: unknown }>(`${root}/mailFolders/${segment(idOrName)}`, {
    query: { $select: 'id' },
  });
  if (typeof body.id !== 'string')
    throw new UpstreamError('graph_error', 'Microsoft Graph returned a folder without id.');
  return body.id;
}
