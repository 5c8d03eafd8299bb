import { GraphError, type GraphResponse } from '../errors';
import type { GraphContext } from '../state';
import {
  addAttachment,
  deleteAttachment,
  getAttachment,
  getAttachmentValue,
  listAttachments,
  parseAttachmentItem,
} from './attachments';
import { folderDelta } from './delta';
import { resolveFolder } from './folders';
import { methodNotAllowed, ok } from './helpers';
import { findMessage } from './messages';
import { type ReplyAction, replyToMessage } from './reply';
import { sendDraft, sendMail } from './send';

/** A Map, not an object: the segment is caller text and must never reach a prototype. */
const REPLY_ACTIONS = new Map<string, ReplyAction>([
  ['createreply', { kind: 'reply', send: false }],
  ['createreplyall', { kind: 'replyAll', send: false }],
  ['createforward', { kind: 'forward', send: false }],
  ['reply', { kind: 'reply', send: true }],
  ['replyall', { kind: 'replyAll', send: true }],
  ['forward', { kind: 'forward', send: true }],
]);

type Handler = (ctx: GraphContext) => GraphResponse | Promise<GraphResponse>;

const kw = (seg: string | undefined): string =>
  (seg ?? '').toLowerCase().replace(/^microsoft\.graph\./, '');
const only = (method: string, wanted: string, handler: Handler): Handler => {
  if (method !== wanted) throw methodNotAllowed();
  return handler;
};

/** Actions and sub-resources: sendMail, send, replies, attachments, upload sessions, delta. */
export function mailRoutes(method: string, segs: string[]): Handler | undefined {
  const k = segs.map(kw);
  if (k.length === 1 && k[0] === 'sendmail') return only(method, 'POST', sendMail);
  if (
    k[0] === 'mailfolders' &&
    k.length === 4 &&
    k[2] === 'messages' &&
    (k[3] === 'delta' || k[3] === 'delta()')
  ) {
    return only(method, 'GET', (ctx) => folderDelta(ctx, resolveFolder(ctx, segs[1]!)));
  }
  if (k[0] === 'messages' && k.length === 2 && (k[1] === 'delta' || k[1] === 'delta()')) {
    // Graph tracks message changes per folder only.
    return () => {
      throw new GraphError(
        400,
        'BadRequest',
        "Change tracking is not supported against 'microsoft.graph.message'.",
      );
    };
  }
  if (k[0] !== 'messages' || k.length < 3) return undefined;
  const id = segs[1]!;
  const msg = (ctx: GraphContext) => findMessage(ctx, id);
  if (k.length === 3 && k[2] === 'send')
    return only(method, 'POST', (ctx) => sendDraft(ctx, msg(ctx)));
  const reply = REPLY_ACTIONS.get(k[2]!);
  if (k.length === 3 && reply)
    return only(method, 'POST', (ctx) => replyToMessage(ctx, msg(ctx), reply));
  if (k[2] !== 'attachments') return undefined;
  if (k.length === 3) {
    if (method === 'GET') return (ctx) => listAttachments(ctx, msg(ctx));
    return only(method, 'POST', (ctx) => addAttachment(ctx, msg(ctx)));
  }
  if (k.length === 4 && k[3] === 'createuploadsession') {
    return only(method, 'POST', (ctx) => {
      // Known issue: with delegated permissions large attachments work only in the signed-in user's mailbox.
      if (!ctx.isSelf)
        throw new GraphError(
          403,
          'ErrorAccessDenied',
          'Access is denied. Check credentials and try again.',
        );
      const m = msg(ctx);
      const item = parseAttachmentItem(ctx);
      return ok(ctx.state.uploads.create(ctx.grant.clientId, ctx.mailbox, m, item), 201);
    });
  }
  const attachmentId = segs[3]!;
  if (k.length === 4) {
    if (method === 'GET') return (ctx) => getAttachment(ctx, msg(ctx), attachmentId);
    return only(method, 'DELETE', (ctx) => deleteAttachment(ctx, msg(ctx), attachmentId));
  }
  if (k.length === 5 && k[4] === '$value')
    return only(method, 'GET', (ctx) => getAttachmentValue(msg(ctx), attachmentId));
  return undefined;
}
