import { createHmac } from 'node:crypto';
import { badRequest, GraphError, type GraphResponse } from '../errors';
import { compileFilter } from '../odata/filter';
import type { GraphContext } from '../state';
import type { Folder, StoredMessage } from '../store';
import { MESSAGE_PROPERTIES, messageView, parseSelect } from '../views';
import { ok } from './helpers';
import { MESSAGE_SCHEMA } from './message-schema';
import { viewOptions } from './messages';

/** State carried in `$skiptoken`/`$deltatoken` (query options of the first request are encoded in it). */
interface DeltaState {
  f: string;
  /** Changes after this mailbox sequence belong to the round. */
  since: number;
  /** Round boundary: changes up to this sequence (fixed when the round started). */
  upto: number;
  /** Last sequence already returned in this round. */
  after: number;
  select: string[] | null;
  filter: string | null;
  changeType: string | null;
  /** When the round's first request was made: old sync states are forgotten (410). */
  t: number;
}

const secret = crypto.randomUUID();
const sign = (payload: string): string =>
  createHmac('sha256', secret).update(payload).digest('base64url').slice(0, 16);

function encode(state: DeltaState): string {
  const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
  return `${payload}.${sign(payload)}`;
}

function decode(token: string, folder: Folder): DeltaState {
  const [payload, mac] = token.split('.');
  if (!payload || mac !== sign(payload)) {
    throw new GraphError(
      400,
      'syncStateInvalid',
      'The sync state generation is invalid or the token was not issued by this service.',
    );
  }
  const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DeltaState;
  if (state.f !== folder.id)
    throw new GraphError(
      400,
      'syncStateInvalid',
      'The delta token was issued for a different folder.',
    );
  return state;
}

type Entry = {
  seq: number;
  message?: StoredMessage;
  removed?: { restId: string; immutableId: string };
};

function deltaBase(ctx: GraphContext, folder: Folder): string {
  return `${ctx.state.origin()}/v1.0/${ctx.userSegment}/mailFolders('${encodeURIComponent(folder.id)}')/messages/delta`;
}

/**
 * A sync state older than the token lifetime, or from before the mailbox's sync states were reset,
 * is gone: 410 `syncStateNotFound` with a `Location` that starts a new round with the same options.
 */
function expireOld(ctx: GraphContext, state: DeltaState): void {
  const resetMs = ctx.state.deltaResets.get(ctx.mailbox.user.id) ?? 0;
  const oldest = Math.max(resetMs, Date.now() - ctx.state.limits.limits.deltaTokenLifetimeMs);
  if (state.t >= oldest) return;
  const folder = ctx.mailbox.foldersById.get(state.f);
  const q = new URLSearchParams();
  if (state.select) q.set('$select', state.select.join(','));
  if (state.filter) q.set('$filter', state.filter);
  if (state.changeType) q.set('changeType', state.changeType);
  const qs = q.toString();
  throw new GraphError(
    410,
    'syncStateNotFound',
    'The sync state generation is not found. Restart the synchronization from the Location header.',
    folder ? { Location: `${deltaBase(ctx, folder)}${qs ? `?${qs}` : ''}` } : {},
  );
}

/**
 * GET /mailFolders/{id}/messages/delta. Round 1 returns every message; later rounds return what
 * changed since the deltaLink (created/updated messages, `@removed` for those that left the folder).
 * Only `$select`, `$top`, `$filter` on receivedDateTime ge/gt and `changeType` are accepted, as documented.
 */
export function folderDelta(ctx: GraphContext, folder: Folder): GraphResponse {
  const q = ctx.req.query;
  const skipToken = q.get('$skiptoken');
  const deltaToken = q.get('$deltatoken');
  let state: DeltaState;
  if (skipToken !== null || deltaToken !== null) {
    state = decode(skipToken ?? deltaToken ?? '', folder);
    expireOld(ctx, state);
    if (deltaToken !== null)
      state = {
        ...state,
        since: state.upto,
        upto: ctx.mailbox.seq,
        after: state.upto,
        t: Date.now(),
      };
  } else {
    if (q.get('$search') !== null)
      throw badRequest(
        "The query parameter '$search' is not supported with delta.",
        'ErrorInvalidUrlQuery',
      );
    const orderby = q.get('$orderby');
    if (
      orderby !== null &&
      orderby.replace(/\s+/g, ' ').trim().toLowerCase() !== 'receiveddatetime desc'
    ) {
      throw badRequest(
        'Only $orderby=receivedDateTime desc is supported with delta.',
        'ErrorInvalidUrlQuery',
      );
    }
    const filter = q.get('$filter');
    if (filter !== null && !/^\s*receivedDateTime\s+(ge|gt)\s+\S+\s*$/i.test(filter)) {
      throw badRequest(
        'Only $filter on receivedDateTime with ge or gt is supported with delta.',
        'ErrorInvalidUrlQueryFilter',
      );
    }
    if (filter !== null) compileFilter(filter, MESSAGE_SCHEMA);
    const changeType = q.get('changeType');
    if (changeType !== null && !['created', 'updated', 'deleted'].includes(changeType)) {
      throw badRequest(`Invalid changeType '${changeType}'.`, 'ErrorInvalidUrlQuery');
    }
    state = {
      f: folder.id,
      since: 0,
      upto: ctx.mailbox.seq,
      after: 0,
      select: parseSelect(q.get('$select'), MESSAGE_PROPERTIES, 'microsoft.graph.message'),
      filter,
      changeType,
      t: Date.now(),
    };
  }
  const maxPage =
    Number(ctx.prefer.get('odata.maxpagesize') ?? '') || Number(q.get('$top') ?? '') || 10;
  if (ctx.prefer.has('odata.maxpagesize')) ctx.preferApplied.push(`odata.maxpagesize=${maxPage}`);
  const predicate = state.filter
    ? compileFilter(state.filter, MESSAGE_SCHEMA).predicate
    : () => true;
  const entries: Entry[] = [];
  if (state.changeType !== 'deleted') {
    for (const m of folder.messages) {
      if (m.seq <= state.after || m.seq > state.upto || !predicate(m)) continue;
      if (state.changeType === 'created' && m.arrivedSeq <= state.since) continue;
      if (state.changeType === 'updated' && m.arrivedSeq > state.since) continue;
      entries.push({ seq: m.seq, message: m });
    }
  }
  if (state.since > 0 && state.changeType !== 'created' && state.changeType !== 'updated') {
    for (const t of folder.tombstones) {
      if (t.seq > state.after && t.seq <= state.upto)
        entries.push({ seq: t.seq, removed: { restId: t.restId, immutableId: t.immutableId } });
    }
  }
  entries.sort((a, b) => a.seq - b.seq);
  const page = entries.slice(0, maxPage);
  const more = entries.length > page.length;
  const view = viewOptions(ctx, state.select);
  const value = page.map((e) =>
    e.message
      ? { '@odata.type': '#microsoft.graph.message', ...messageView(e.message, view) }
      : {
          '@odata.type': '#microsoft.graph.message',
          id: ctx.immutableIds ? e.removed!.immutableId : e.removed!.restId,
          '@removed': { reason: 'deleted' },
        },
  );
  const base = deltaBase(ctx, folder);
  const body: Record<string, unknown> = {
    '@odata.context': `${ctx.state.origin()}/v1.0/$metadata#Collection(message)`,
  };
  if (more)
    body['@odata.nextLink'] =
      `${base}?%24skiptoken=${encode({ ...state, after: page[page.length - 1]!.seq })}`;
  else
    body['@odata.deltaLink'] = `${base}?%24deltatoken=${encode({ ...state, after: state.upto })}`;
  body.value = value;
  return ok(body);
}
