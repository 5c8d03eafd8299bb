import { type ReadableStream as NodeReadableStream } from 'node:stream/web';

import { UpstreamError, ValidationError } from '../core/errors';
import { type CredentialKey } from '../credentials/types';
import { type GraphFactory, segment } from './client';
import { type ReadOptions } from './messages';
import { readPreferHeaders } from './prefer';

export interface AttachmentView {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
}

export interface AttachmentContent {
  /** The bytes, streamed from Graph as they arrive. */
  body: NodeReadableStream<Uint8Array>;
  contentType: string;
  /** Byte count when Graph declared it. */
  contentLength: number | undefined;
  fileName: string;
}

export interface AttachmentReader {
  list(key: CredentialKey, messageId: string, options: ReadOptions): Promise<AttachmentView[]>;
  open(
    key: CredentialKey,
    messageId: string,
    attachmentId: string,
    options: ReadOptions,
  ): Promise<AttachmentContent>;
}

const SELECT = 'id,name,contentType,size,isInline';
const ITEM_ATTACHMENT = '#microsoft.graph.itemAttachment';
const REFERENCE_ATTACHMENT = '#microsoft.graph.referenceAttachment';
/** `type/subtype` without parameters we did not vet; anything else is served as octet-stream. */
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

interface GraphAttachment {
  '@odata.type'?: unknown;
  id?: unknown;
  name?: unknown;
  contentType?: unknown;
  size?: unknown;
  isInline?: unknown;
}

interface AttachmentPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

function toView(item: GraphAttachment): AttachmentView {
  if (typeof item.id !== 'string') {
    throw new UpstreamError('graph_error', 'Microsoft Graph returned an attachment without id.');
  }
  return {
    id: item.id,
    name: typeof item.name === 'string' ? item.name : '',
    contentType:
      typeof item.contentType === 'string' && item.contentType
        ? item.contentType
        : 'application/octet-stream',
    size: typeof item.size === 'number' ? item.size : 0,
    isInline: item.isInline === true,
  };
}

export function safeMediaType(value: string | null | undefined): string {
  const bare = (value ?? '').split(';')[0]!.trim();
  return MEDIA_TYPE.test(bare) ? bare.toLowerCase() : 'application/octet-stream';
}

/**
 * A file name safe to put in a header and on a disk: no control characters, path separators or
 * characters Windows refuses, no leading dots, at most 200 characters.
 */
export function safeFileName(name: string, fallback = 'attachment'): string {
  const cleaned = Array.from(name.normalize('NFC'), (c) => {
    const code = c.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code < 0xa0) || '"*/:<>?\\|'.includes(c) ? '_' : c;
  })
    .join('')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 200);
  return cleaned === '' ? fallback : cleaned;
}

/** RFC 6266 `attachment` disposition: an ASCII `filename` plus the exact UTF-8 `filename*`. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/[%\\"]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Attachment listings (every page) and downloads streamed from `…/attachments/{id}/$value`. */
export function createAttachmentReader(deps: {
  graph: GraphFactory<CredentialKey>;
}): AttachmentReader {
  return {
    async list(key, messageId, options) {
      const { client, root } = await deps.graph.forCredential(key, options);
      const headers = readPreferHeaders();
      const out: AttachmentView[] = [];
      let path: string | undefined = `${root}/messages/${segment(messageId)}/attachments`;
      let query: Record<string, string> | undefined = { $select: SELECT };
      while (path) {
        const { body }: { body: AttachmentPage } = await client.get<AttachmentPage>(path, {
          ...(query ? { query } : {}),
          headers,
        });
        if (!Array.isArray(body?.value)) {
          throw new UpstreamError(
            'graph_error',
            'Microsoft Graph returned an attachment page without value.',
          );
        }
        for (const item of body.value) out.push(toView(item as GraphAttachment));
        const next: unknown = body['@odata.nextLink'];
        path = typeof next === 'string' ? client.nextLinkPath(next) : undefined;
        query = undefined;
      }
      return out;
    },

    async open(key, messageId, attachmentId, options) {
      const { client, root } = await deps.graph.forCredential(key, options);
      const headers = readPreferHeaders();
      const base = `${root}/messages/${segment(messageId)}/attachments/${segment(attachmentId)}`;
      // The name and kind come from the metadata; `$value` carries only the bytes.
      const { body: meta } = await client.get<GraphAttachment>(base, {
        query: { $select: 'id,name,contentType' },
        headers,
      });
      const kind = meta['@odata.type'];
      if (kind === REFERENCE_ATTACHMENT) {
        throw new ValidationError({
          path: 'attachmentId',
          message: 'is a link to a cloud file; it has no content to download',
        });
      }
      const view = toView(meta);
      const isItem = kind === ITEM_ATTACHMENT;
      const response = await client.send('GET', `${base}/$value`, { headers, streamBody: true });
      if (!response.body) {
        throw new UpstreamError('graph_error', 'Microsoft Graph returned no attachment content.');
      }
      const length = Number(response.headers.get('content-length') ?? NaN);
      const name = safeFileName(view.name);
      return {
        // fetch's body is Node's web stream; the DOM typing just does not say so.
        body: response.body as unknown as NodeReadableStream<Uint8Array>,
        // Item attachments (a mail inside the mail) come as MIME: an .eml file.
        contentType: isItem
          ? 'message/rfc822'
          : safeMediaType(
              typeof meta.contentType === 'string' && meta.contentType
                ? meta.contentType
                : response.headers.get('content-type'),
            ),
        contentLength: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
        fileName: isItem && !/\.eml$/i.test(name) ? `${name}.eml` : name,
      };
    },
  };
}
