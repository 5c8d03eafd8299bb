import { badRequest, GraphError, graphErrorBody, JSON_CONTENT_TYPE } from './errors';
import { guessContentType } from './mime';
import type { HttpResult, SandboxState } from './state';
import { type Mailbox, newAttachment, type StoredMessage } from './store';
import { isoSeconds, opaqueToken, safeDecode, sleep } from './util';

/** Validated `AttachmentItem` of createUploadSession (docs spell it with a capital A; camelCase also read). */
export interface AttachmentItem {
  name: string;
  size: number;
  contentType: string | null;
  isInline: boolean;
  contentId: string | null;
}

/** Expiration timestamps in upload sessions carry 7 fractional digits, like the docs' samples. */
export const sessionTime = (ms: number): string =>
  `${isoSeconds(ms).slice(0, -1)}.${String(ms % 1000).padStart(3, '0')}0000Z`;

interface UploadSession {
  id: string;
  token: string;
  appId: string;
  mailbox: Mailbox;
  message: StoredMessage;
  item: AttachmentItem;
  chunks: Buffer[];
  next: number;
  expiresMs: number;
}

/**
 * Outlook attachment upload sessions. The upload URL lives on the sandbox origin but outside
 * `/v1.0` (like outlook.office.com), and is pre-authenticated by its `authtoken` parameter.
 */
export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(private readonly state: SandboxState) {}

  create(
    appId: string,
    mailbox: Mailbox,
    message: StoredMessage,
    item: AttachmentItem,
  ): Record<string, unknown> {
    const id = `AAMkAD${opaqueToken(24)}=`;
    const session: UploadSession = {
      id,
      token: opaqueToken(48),
      appId,
      mailbox,
      message,
      item,
      chunks: [],
      next: 0,
      expiresMs: Date.now() + this.state.limits.limits.uploadSessionLifetimeSeconds * 1000,
    };
    this.sessions.set(id, session);
    return {
      '@odata.context': `${this.state.origin()}/v1.0/$metadata#microsoft.graph.uploadSession`,
      uploadUrl: `${this.sessionUrl(session)}?authtoken=${session.token}`,
      expirationDateTime: sessionTime(session.expiresMs),
      nextExpectedRanges: ['0-'],
    };
  }

  private userKey(s: UploadSession): string {
    return `${s.mailbox.user.id}@${this.state.tenantId}`;
  }

  private sessionUrl(s: UploadSession): string {
    return `${this.state.origin()}/api/v2.0/Users('${this.userKey(s)}')/Messages('${s.message.immutableId}')/AttachmentSessions('${s.id}')`;
  }

  /** Handles PUT/DELETE on an upload URL; undefined when the path is not an upload URL. */
  async handle(
    method: string,
    url: URL,
    body: Buffer,
    headers: Record<string, string | undefined>,
  ): Promise<HttpResult | undefined> {
    const m =
      /^\/api\/v2\.0\/Users\('([^']+)'\)\/Messages\('([^']+)'\)\/AttachmentSessions\('([^']+)'\)$/i.exec(
        safeDecode(url.pathname) ?? '',
      );
    if (!m) return undefined;
    const requestId = crypto.randomUUID();
    const error = (err: GraphError): HttpResult => ({
      status: err.status,
      headers: { 'Content-Type': JSON_CONTENT_TYPE, 'request-id': requestId, ...err.headers },
      body: JSON.stringify(
        graphErrorBody(err.code, err.message, requestId, headers['client-request-id'] ?? requestId),
      ),
    });
    try {
      if (this.state.latencyMs > 0) await sleep(this.state.latencyMs);
      // "Do not specify an Authorization header when uploading to the uploadUrl" (Attach large
      // files to Outlook messages): the Outlook upload host answers one with 401.
      if (headers.authorization !== undefined) {
        throw new GraphError(
          401,
          'InvalidAuthenticationToken',
          'The upload URL is pre-authenticated by its authtoken parameter; a request to it must not carry an Authorization header.',
        );
      }
      const session = this.sessions.get(m[3]!);
      const token = url.searchParams.get('authtoken');
      if (!session || session.token !== token) {
        if (session && token !== session.token)
          throw new GraphError(
            401,
            'InvalidAuthenticationToken',
            'The audience claim value is invalid for the upload session.',
          );
        throw new GraphError(
          404,
          'ErrorItemNotFound',
          'The upload session was not found. It may have been completed, cancelled or expired.',
        );
      }
      if (Date.now() > session.expiresMs) {
        this.sessions.delete(session.id);
        throw new GraphError(404, 'ErrorItemNotFound', 'The upload session has expired.');
      }
      if (method === 'DELETE') {
        this.sessions.delete(session.id);
        return { status: 204, headers: { 'request-id': requestId } };
      }
      if (method !== 'PUT')
        throw new GraphError(
          405,
          'ErrorInvalidRequest',
          'The HTTP method is not supported for upload sessions.',
        );
      return this.put(session, body, headers, requestId);
    } catch (err) {
      if (err instanceof GraphError) return error(err);
      throw err;
    }
  }

  private put(
    s: UploadSession,
    body: Buffer,
    headers: Record<string, string | undefined>,
    requestId: string,
  ): HttpResult {
    const limits = this.state.limits.limits;
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((headers['content-range'] ?? '').trim());
    if (!range)
      throw badRequest(
        "The Content-Range header is missing or malformed; expected 'bytes {start}-{end}/{total}'.",
        'ErrorInvalidContentRange',
      );
    const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (total !== s.item.size)
      throw badRequest(
        `The total size ${total} in Content-Range does not match the upload session size ${s.item.size}.`,
        'ErrorInvalidContentRange',
      );
    if (end < start || end >= total)
      throw badRequest('The Content-Range header is invalid.', 'ErrorInvalidContentRange');
    if (body.length !== end - start + 1) {
      throw badRequest(
        `The number of bytes in the request body (${body.length}) does not match Content-Range (${end - start + 1}).`,
        'ErrorInvalidContentRange',
      );
    }
    if (body.length > limits.maxUploadChunkBytes) {
      throw new GraphError(
        413,
        'RequestEntityTooLarge',
        `A single upload range may not exceed ${limits.maxUploadChunkBytes} bytes.`,
      );
    }
    if (start !== s.next) {
      throw new GraphError(
        416,
        'ErrorInvalidRequestedRange',
        `The requested range is not satisfiable. Expected the range starting at ${s.next}.`,
        {},
      );
    }
    this.state.limits.countUpload(s.appId, s.mailbox.user.id, body.length);
    s.chunks.push(body);
    s.next = end + 1;
    if (s.next < total) {
      return {
        status: 200,
        headers: { 'Content-Type': JSON_CONTENT_TYPE, 'request-id': requestId },
        body: JSON.stringify({
          '@odata.context': `${this.state.origin()}/api/v2.0/$metadata#Users('${encodeURIComponent(this.userKey(s))}')/Messages('${encodeURIComponent(s.message.immutableId)}')/AttachmentSessions/$entity`,
          ExpirationDateTime: sessionTime(s.expiresMs),
          nextExpectedRanges: [String(s.next)],
        }),
      };
    }
    this.sessions.delete(s.id);
    const bytes = Buffer.concat(s.chunks);
    const attachment = newAttachment(
      {
        kind: 'file',
        name: s.item.name,
        contentType:
          s.item.contentType ??
          guessContentType(s.item.name, bytes.subarray(0, 12).toString('base64')),
        isInline: s.item.isInline,
        contentId: s.item.contentId,
        bytes,
      },
      s.message.immutableId,
      s.message.attachments.length,
    );
    s.message.attachments = [...s.message.attachments, attachment];
    this.state.store.touch(s.mailbox, s.message);
    return {
      status: 201,
      headers: {
        Location: `${this.state.origin()}/api/v2.0/Users('${this.userKey(s)}')/Messages('${s.message.immutableId}')/Attachments('${attachment.id}')`,
        'Content-Length': '0',
        'request-id': requestId,
      },
    };
  }
}
