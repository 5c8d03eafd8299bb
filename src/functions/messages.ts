import { createHash } from 'node:crypto';

import * as z from 'zod';

import { emailAddress } from '../core/validators';
import {
  type ListMessagesQuery,
  MESSAGE_FIELDS,
  type MessageField,
  type MessageReader,
} from '../graph/messages';
import { searchPhrase } from '../graph/odata';
import { type HttpFunctionDefinition } from '../http/definitions';
import {
  bodyFormatParam,
  credentialKey,
  cursorParam,
  graphIdParam,
  mailboxParam,
  topParam,
} from '../http/params';
import { parseQuery, queryBoolean } from '../http/parse';

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,7})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))?$/;

/** ISO 8601: a date (midnight UTC) or a date-time with `Z` or an offset; never a local time. */
const isoDate = z.string().transform((value, ctx) => {
  const m = ISO_DATE.exec(value);
  const [year = NaN, month = NaN, day = NaN] = [m?.[1], m?.[2], m?.[3]].map(Number);
  // Date.UTC rolls 2026-02-30 over to March: a real calendar day comes back unchanged.
  const realDay = new Date(Date.UTC(year, month - 1, day)).getUTCMonth() === month - 1;
  const date = new Date(m?.[4] === undefined ? `${value}T00:00:00Z` : value);
  if (!realDay || Number.isNaN(date.getTime())) {
    ctx.addIssue({
      code: 'custom',
      message:
        'must be an ISO 8601 date (2026-01-31) or date-time with a zone (2026-01-31T08:00:00Z)',
    });
    return z.NEVER;
  }
  return date;
});

const selectParam = z.string().transform((value, ctx) => {
  const known = new Set<string>([...MESSAGE_FIELDS, 'body']);
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `has unknown field(s) ${unknown.map((n) => `'${n}'`).join(', ')}; choose from ${[...known].join(', ')}`,
    });
    return z.NEVER;
  }
  return [...new Set(names)] as Array<MessageField | 'body'>;
});

const FILTERS = [
  'unread',
  'from',
  'receivedAfter',
  'receivedBefore',
  'hasAttachments',
  'subject',
] as const;
const QUERY_SHAPING = [
  'folder',
  ...FILTERS,
  'search',
  'top',
  'select',
  'includeBody',
  'bodyFormat',
] as const;

const listQuery = z
  .strictObject({
    folder: graphIdParam.optional(),
    unread: queryBoolean.optional(),
    from: emailAddress().optional(),
    receivedAfter: isoDate.optional(),
    receivedBefore: isoDate.optional(),
    hasAttachments: queryBoolean.optional(),
    subject: z.string().min(1, 'must not be empty').max(255).optional(),
    search: z
      .string()
      .max(500)
      .refine((s) => searchPhrase(s) !== undefined, 'must contain text to search for')
      .optional(),
    top: topParam.optional(),
    cursor: cursorParam.optional(),
    select: selectParam.optional(),
    includeBody: queryBoolean.optional(),
    bodyFormat: bodyFormatParam.optional(),
    mailbox: mailboxParam.optional(),
  })
  .superRefine((q, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (q.search !== undefined) {
      for (const name of FILTERS) {
        if (q[name] !== undefined) {
          issue(name, 'cannot be combined with search (Graph does not filter search results)');
        }
      }
    }
    if (q.receivedAfter && q.receivedBefore && q.receivedBefore <= q.receivedAfter) {
      issue('receivedBefore', 'must be later than receivedAfter');
    }
    if (q.includeBody === false && (q.bodyFormat !== undefined || q.select?.includes('body'))) {
      issue('includeBody', 'is false, but bodyFormat or select asks for the body');
    }
  });

type ListQuery = z.output<typeof listQuery>;

/** The query-shaping parameters as sent, order-independent; undefined when there are none. */
function queryFingerprint(query: URLSearchParams): string | undefined {
  const pairs = QUERY_SHAPING.flatMap((name) => query.getAll(name).map((v) => `${name}=${v}`));
  return pairs.length === 0
    ? undefined
    : createHash('sha256').update(pairs.join('&')).digest('base64url').slice(0, 32);
}

function toListMessagesQuery(q: ListQuery): ListMessagesQuery {
  const wantsBody =
    q.includeBody === true || q.bodyFormat !== undefined || q.select?.includes('body');
  const common = {
    folder: q.folder,
    top: q.top ?? 25,
    fields: (q.select ?? MESSAGE_FIELDS).filter((f): f is MessageField => f !== 'body'),
    body: wantsBody ? (q.bodyFormat ?? 'html') : undefined,
  };
  return q.search !== undefined
    ? { ...common, search: q.search }
    : {
        ...common,
        filters: {
          unread: q.unread,
          from: q.from,
          receivedAfter: q.receivedAfter,
          receivedBefore: q.receivedBefore,
          hasAttachments: q.hasAttachments,
          subject: q.subject,
        },
      };
}

/** `GET credentials/{credentialId}/messages`: one page of a folder or the whole mailbox. */
export function listMessagesFunction(deps: { messages: MessageReader }): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'listMessages',
    methods: ['GET'],
    route: 'credentials/{credentialId}/messages',
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const q = parseQuery(invocation.request, listQuery);
      const shaping = queryFingerprint(invocation.request.query);
      const options = {
        mailbox: q.mailbox,
        abortSignal: invocation.abortSignal,
        log: invocation.log,
      };
      // A paging loop may send the cursor alone or with the query it started with, not another.
      const page =
        q.cursor !== undefined
          ? await deps.messages.resume(key, q.cursor, { ...options, queryFingerprint: shaping })
          : await deps.messages.list(key, toListMessagesQuery(q), {
              ...options,
              queryFingerprint: shaping,
            });
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: page };
    },
  };
}
