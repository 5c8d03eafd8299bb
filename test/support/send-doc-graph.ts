import { type CredentialKey } from '../../src/credentials/types';
import { createGraphFactory, type GraphFactory } from '../../src/graph/client';
import { startServer } from './http';

/**
 * A small Graph for send-path unit tests that does only what Microsoft documents, where the
 * sandbox is more lenient:
 * - the Sent Items copy of a sent message has no internet headers (microsoft-graph-docs #2716,
 *   #3066); single-value extended properties stay on it and are found with the documented
 *   `singleValueExtendedProperties/Any(ep: ep/id eq '…' and ep/value eq '…')` filter;
 * - request bodies over `maxRequestBytes` answer 413; POST `/attachments` and sendMail take
 *   files under `maxPostBytes`; createUploadSession refuses files under `minSessionBytes`
 *   (`ErrorAttachmentSizeShouldNotBeLessThanMinimumSize`) and any mailbox but the signed-in
 *   user's (the delegated-permission known issue, 403);
 * - upload PUTs follow the large-attachments walkthrough (200 + nextExpectedRanges, 201 +
 *   Location at the end, 416 for a range it does not expect).
 * Limits default to the docs' decimal figures.
 */

export interface DocGraphOptions {
  self: string;
  maxRequestBytes?: number;
  maxPostBytes?: number;
  minSessionBytes?: number;
}

interface StoredMessage {
  id: string;
  mailbox: string;
  folder: 'drafts' | 'sentitems';
  message: Record<string, unknown>;
  properties: Array<{ id: string; value: string }>;
  attachments: Array<{ name: string; size: number; via: 'json' | 'session' }>;
}

export interface LoggedRequest {
  method: string;
  /** Decoded path below `/v1.0` (or the upload path). */
  path: string;
  query: URLSearchParams;
  bytes: number;
  status: number;
  body: unknown;
}

export interface DocGraph {
  url: string;
  graph: GraphFactory<CredentialKey>;
  requests: LoggedRequest[];
  messages: StoredMessage[];
  /** The next request whose `METHOD path` matches is processed, then answered 504. */
  loseAnswer(method: string, path: RegExp): void;
  close(): Promise<void>;
}

const graphError = (code: string, message = code) => JSON.stringify({ error: { code, message } });

export async function startDocGraph(options: DocGraphOptions): Promise<DocGraph> {
  const maxRequestBytes = options.maxRequestBytes ?? 4_000_000;
  const maxPostBytes = options.maxPostBytes ?? 3_000_000;
  const minSessionBytes = options.minSessionBytes ?? 3_000_000;
  const requests: LoggedRequest[] = [];
  const messages: StoredMessage[] = [];
  const lost: Array<{ method: string; path: RegExp }> = [];
  const sessions = new Map<
    string,
    { message: StoredMessage; name: string; size: number; next: number }
  >();
  let counter = 0;
  let origin = '';

  const ref = (m: StoredMessage) => ({
    id: m.id,
    internetMessageId: `<${m.id}@doc.test>`,
    isDraft: m.folder === 'drafts',
    parentFolderId: `${m.folder}-id`,
  });
  const decodedSize = (attachment: unknown) =>
    Buffer.from(String((attachment as { contentBytes?: string }).contentBytes ?? ''), 'base64')
      .length;
  const store = (
    mailbox: string,
    folder: StoredMessage['folder'],
    message: Record<string, unknown>,
  ) => {
    const { singleValueExtendedProperties, attachments, ...rest } = message as {
      singleValueExtendedProperties?: StoredMessage['properties'];
      attachments?: unknown[];
    };
    const stored: StoredMessage = {
      id: `AAMkDoc${++counter}=`,
      mailbox,
      folder,
      message: rest,
      properties: singleValueExtendedProperties ?? [],
      attachments: (attachments ?? []).map((a) => ({
        name: String((a as { name?: string }).name),
        size: decodedSize(a),
        via: 'json' as const,
      })),
    };
    messages.push(stored);
    return stored;
  };
  // What Exchange keeps in Sent Items: no internet headers (they are not on that copy).
  const toSentItems = (m: StoredMessage) => {
    m.folder = 'sentitems';
    delete m.message.internetMessageHeaders;
  };

  type Answer = { status: number; headers?: Record<string, string>; body?: string };
  const handle = (method: string, url: URL, body: Buffer, self: string): Answer => {
    const json = () => JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const upload = /^\/upload\/(\d+)$/.exec(url.pathname);
    if (upload) {
      const session = sessions.get(upload[1]!);
      if (!session) return { status: 404, body: graphError('ErrorItemNotFound') };
      if (method === 'DELETE') {
        sessions.delete(upload[1]!);
        return { status: 204 };
      }
      return { status: 405 };
    }
    const path = decodeURIComponent(url.pathname.replace(/^\/v1\.0/, ''));
    const root = /^\/(me|users\/([^/]+))(\/.*)$/.exec(path);
    if (!root) return { status: 404, body: graphError('ResourceNotFound') };
    const mailbox = (root[2] ?? self).toLowerCase();
    const rest = root[3]!;
    const mine = messages.filter((m) => m.mailbox === mailbox);
    const byId = (id: string) => mine.find((m) => m.id === id);
    if (body.length > maxRequestBytes) {
      return {
        status: 413,
        body: graphError('RequestEntityTooLarge', 'Maximum request length exceeded.'),
      };
    }
    if (method === 'POST' && rest === '/sendMail') {
      const { message, saveToSentItems } = json() as {
        message: Record<string, unknown>;
        saveToSentItems?: boolean;
      };
      const files = (message.attachments as unknown[] | undefined) ?? [];
      if (files.some((a) => decodedSize(a) >= maxPostBytes)) {
        return { status: 413, body: graphError('ErrorAttachmentSizeLimitExceeded') };
      }
      const stored = store(mailbox, 'sentitems', message);
      toSentItems(stored);
      if (saveToSentItems === false) messages.splice(messages.indexOf(stored), 1);
      return { status: 202 };
    }
    if (method === 'POST' && rest === '/messages') {
      return { status: 201, body: JSON.stringify(ref(store(mailbox, 'drafts', json()))) };
    }
    const item = /^\/messages\/([^/]+)(\/.*)?$/.exec(rest);
    if (item) {
      const m = byId(item[1]!);
      if (!m) return { status: 404, body: graphError('ErrorItemNotFound') };
      const action = item[2] ?? '';
      if (method === 'GET' && action === '') return { status: 200, body: JSON.stringify(ref(m)) };
      if (method === 'DELETE' && action === '') {
        messages.splice(messages.indexOf(m), 1);
        return { status: 204 };
      }
      if (method === 'POST' && action === '/send') {
        toSentItems(m);
        return { status: 202 };
      }
      if (method === 'POST' && action === '/attachments') {
        const attachment = json();
        const size = decodedSize(attachment);
        if (size >= maxPostBytes) {
          return { status: 413, body: graphError('ErrorAttachmentSizeLimitExceeded') };
        }
        m.attachments.push({ name: String(attachment.name), size, via: 'json' });
        return { status: 201, body: JSON.stringify({ id: `att-${++counter}`, size }) };
      }
      if (method === 'POST' && action === '/attachments/createUploadSession') {
        if (mailbox !== self.toLowerCase()) {
          return { status: 403, body: graphError('ErrorAccessDenied', 'Access is denied.') };
        }
        const { AttachmentItem } = json() as { AttachmentItem: { name: string; size: number } };
        if (AttachmentItem.size < minSessionBytes) {
          return {
            status: 400,
            body: graphError('ErrorAttachmentSizeShouldNotBeLessThanMinimumSize'),
          };
        }
        const id = String(++counter);
        sessions.set(id, {
          message: m,
          name: AttachmentItem.name,
          size: AttachmentItem.size,
          next: 0,
        });
        return {
          status: 201,
          body: JSON.stringify({
            uploadUrl: `${origin}/upload/${id}?authtoken=x`,
            expirationDateTime: new Date(Date.now() + 600_000).toISOString(),
            nextExpectedRanges: ['0-'],
          }),
        };
      }
    }
    const folderMatch = /^\/mailFolders\/(drafts|sentitems)(\/messages)?$/.exec(rest);
    if (method === 'GET' && folderMatch) {
      if (!folderMatch[2])
        return { status: 200, body: JSON.stringify({ id: `${folderMatch[1]}-id` }) };
      const filter = url.searchParams.get('$filter');
      const any = filter
        ? /^singleValueExtendedProperties\/Any\(ep: ep\/id eq '([^']*)' and ep\/value eq '([^']*)'\)$/.exec(
            filter,
          )
        : null;
      if (filter && !any) return { status: 400, body: graphError('ErrorInvalidUrlQueryFilter') };
      const found = mine.filter(
        (m) =>
          m.folder === folderMatch[1] &&
          (!any || m.properties.some((p) => p.id === any[1] && p.value === any[2])),
      );
      const select = (url.searchParams.get('$select') ?? '').split(',');
      return {
        status: 200,
        body: JSON.stringify({
          value: found.map((m) => ({
            ...ref(m),
            ...(select.includes('internetMessageHeaders') && m.message.internetMessageHeaders
              ? { internetMessageHeaders: m.message.internetMessageHeaders }
              : {}),
          })),
        }),
      };
    }
    return { status: 400, body: graphError('BadRequest', `not modelled: ${method} ${path}`) };
  };

  const server = await startServer((req, res, body) => {
    const url = new URL(req.url!, origin);
    const method = req.method!;
    let answer: Answer;
    const upload = /^\/upload\/(\d+)$/.exec(url.pathname);
    if (upload && method === 'PUT') {
      const session = sessions.get(upload[1]!);
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] ?? '');
      if (!session || !range) answer = { status: 404, body: graphError('ErrorItemNotFound') };
      else if (Number(range[1]) !== session.next) {
        answer = { status: 416, body: graphError('ErrorInvalidRequestedRange') };
      } else {
        session.next = Number(range[2]) + 1;
        if (session.next >= session.size) {
          sessions.delete(upload[1]!);
          session.message.attachments.push({
            name: session.name,
            size: session.size,
            via: 'session',
          });
          answer = { status: 201, headers: { location: `${origin}/Attachments('a${upload[1]}')` } };
        } else {
          answer = {
            status: 200,
            body: JSON.stringify({ nextExpectedRanges: [String(session.next)] }),
          };
        }
      }
    } else {
      answer = handle(method, url, body, options.self);
    }
    const path = decodeURIComponent(url.pathname.replace(/^\/v1\.0/, ''));
    const lose = lost.findIndex((l) => l.method === method && l.path.test(path));
    if (lose >= 0 && answer.status < 300) {
      lost.splice(lose, 1);
      answer = { status: 504, body: graphError('GatewayTimeout') };
    }
    let parsed: unknown = null;
    if (body.length > 0 && body.length < 100_000) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = null;
      }
    }
    requests.push({
      method,
      path,
      query: url.searchParams,
      bytes: body.length,
      status: answer.status,
      body: parsed,
    });
    res.writeHead(answer.status, {
      ...(answer.body ? { 'content-type': 'application/json' } : {}),
      ...answer.headers,
    });
    res.end(answer.body);
  });
  origin = server.url;

  const graph = createGraphFactory<CredentialKey>({
    graphBaseUrl: server.url,
    tokens: {
      getAccessToken: () =>
        Promise.resolve({
          accessToken: 'doc-graph-token',
          scopes: ['Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'],
          account: { id: 'self-id', address: options.self },
        }),
    },
  });
  return {
    url: server.url,
    graph,
    requests,
    messages,
    loseAnswer: (method, path) => lost.push({ method, path }),
    close: () => server.close(),
  };
}
