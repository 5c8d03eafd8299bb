import { remainingMs, sleep } from '../core/abort';
import { isErrorOf, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { retryAfterMs } from '../core/retry-after';
import { ChunkReader, type UploadSource } from './chunk-reader';
import { type MailboxGraph, segment } from './client';
import { toGraphError } from './errors';
import { backoffMs } from './middleware';
import { type UploadAnswer, uploadRequest } from './upload-put';

/**
 * Outlook attachment upload sessions (3 MB – 150 MB): create the session through Graph, then PUT
 * the bytes in order to the pre-authenticated upload URL (never our token, and never a copy of the
 * chunk: ./upload-put), honouring the server's `nextExpectedRanges`.
 */

/**
 * The docs' 3 MB line, decimal: POST `/attachments` takes files under it, upload sessions refuse
 * files under it (`ErrorAttachmentSizeShouldNotBeLessThanMinimumSize`).
 */
export const UPLOAD_SESSION_MIN_BYTES = 3_000_000;
/** 12 × 320 KiB = 3.75 MiB per PUT: under Outlook's 4 MB per range, a OneDrive-friendly multiple. */
export const UPLOAD_CHUNK_BYTES = 12 * 320 * 1024;
const MAX_CHUNK_ATTEMPTS = 6;

export interface AttachmentItem {
  attachmentType: 'file';
  name: string;
  size: number;
  contentType?: string;
  isInline?: boolean;
  contentId?: string;
}

export interface UploadSession {
  uploadUrl: string;
  expirationDateTime?: string;
  nextExpectedRanges: string[];
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The upload URL carries its own credential: only ever sent over https (or to a loopback test host). */
export function checkUploadUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UpstreamError(
      'graph_error',
      'Microsoft Graph returned an upload URL that is not a URL.',
    );
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) {
    return url;
  }
  throw new UpstreamError(
    'graph_error',
    'Microsoft Graph returned an upload URL that is not https; refusing to upload to it.',
  );
}

/** `POST …/messages/{id}/attachments/createUploadSession` → 201 uploadSession. */
export async function createUploadSession(
  graph: MailboxGraph,
  messageId: string,
  item: AttachmentItem,
): Promise<UploadSession> {
  const result = await graph.client.json<Partial<UploadSession>>(
    'POST',
    `${graph.root}/messages/${segment(messageId)}/attachments/createUploadSession`,
    { body: { AttachmentItem: item }, retry: 'throttle-only' },
  );
  const uploadUrl = result.body?.uploadUrl;
  if (typeof uploadUrl !== 'string') {
    throw new UpstreamError(
      'graph_error',
      'Microsoft Graph created an upload session without an upload URL.',
    );
  }
  checkUploadUrl(uploadUrl);
  return {
    uploadUrl,
    nextExpectedRanges: result.body.nextExpectedRanges ?? ['0-'],
    ...(result.body.expirationDateTime
      ? { expirationDateTime: result.body.expirationDateTime }
      : {}),
  };
}

/**
 * Whether createUploadSession refused the file as too small for a session (Graph's "3 MB" may be
 * counted differently from ours): the file can still go by POST `/attachments`.
 */
export function isBelowSessionMinimum(error: unknown): boolean {
  return (
    isErrorOf(error, UpstreamError) &&
    error.upstreamCode === 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize'
  );
}

/** The start of the first expected range (`"2097152"` or `"2097152-"`; Outlook sends one). */
export function nextOffset(ranges: unknown): number | undefined {
  if (!Array.isArray(ranges) || typeof ranges[0] !== 'string') return undefined;
  const start = /^(\d+)/.exec(ranges[0]);
  return start ? Number(start[1]) : undefined;
}

/** Takes one of the mailbox's concurrency slots; the answer releases it. */
export type MailboxSlot = (abortSignal?: AbortSignal) => Promise<() => void>;

export interface UploadOptions {
  abortSignal?: AbortSignal | undefined;
  log: Logger;
  /** Held for the duration of each PUT, until its answer is read. */
  slot?: MailboxSlot;
  chunkBytes?: number;
}

export interface UploadResult {
  /** From the final answer's `Location` header (`…/Attachments('{id}')`), when Graph gives one. */
  attachmentId: string | null;
  chunks: number;
}

function attachmentIdFrom(location: string | null): string | null {
  const match = location ? /Attachments\('([^']+)'\)/i.exec(location) : null;
  return match ? decodeURIComponent(match[1]!) : null;
}

/** `nextExpectedRanges` of an upload answer (either spelling), or undefined. */
function expectedOffset(text: string): number | undefined {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const answer = body as Record<string, unknown>;
  return nextOffset(answer.nextExpectedRanges ?? answer.NextExpectedRanges);
}

/**
 * Uploads `source` to an upload session, chunk by chunk in order. Only 201 means the attachment
 * is complete; a 200 continues at its `nextExpectedRanges`, or right after the chunk when it names
 * none. A failed or throttled chunk is retried within the budget; a retried chunk the server
 * already had answers 416, and the upload continues where that answer's `nextExpectedRanges`
 * says (without one it fails, and the caller cleans up). No Authorization header is ever sent:
 * the URL is pre-authenticated.
 */
export async function uploadToSession(
  session: UploadSession,
  source: UploadSource,
  options: UploadOptions,
): Promise<UploadResult> {
  const chunkBytes = options.chunkBytes ?? UPLOAD_CHUNK_BYTES;
  const { abortSignal, log } = options;
  const url = checkUploadUrl(session.uploadUrl);
  const reader = new ChunkReader(source);
  let offset = nextOffset(session.nextExpectedRanges) ?? 0;
  let chunks = 0;
  let attempt = 0;
  try {
    for (;;) {
      const length = Math.min(chunkBytes, source.size - offset);
      const body = await reader.read(offset, length);
      // The next chunk comes in from the source while this one travels.
      const after = offset + length;
      if (after < source.size) reader.readAhead(after, Math.min(chunkBytes, source.size - after));
      const release = options.slot ? await options.slot(abortSignal) : () => {};
      let answer: UploadAnswer;
      try {
        answer = await uploadRequest(url, {
          method: 'PUT',
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `bytes ${offset}-${offset + length - 1}/${source.size}`,
          },
          body,
          abortSignal,
        });
      } catch (error) {
        if (abortSignal?.aborted) {
          release();
          throw new UpstreamError('graph_unavailable', 'The attachment upload ran out of time.', {
            cause: error,
          });
        }
        // No answer (a reset, a refused connection): retried like a 5xx.
        answer = { status: 0, headers: new Headers(), text: '' };
      }
      release();
      const { status, text } = answer;
      if (status === 201) {
        return {
          attachmentId: attachmentIdFrom(answer.headers.get('location')),
          chunks: ++chunks,
        };
      }
      if (status === 200 || status === 202) {
        chunks++;
        attempt = 0;
        offset = expectedOffset(text) ?? offset + length;
        if (offset >= source.size) {
          throw new UpstreamError(
            'graph_error',
            'The upload session took every byte of the attachment but did not complete it (no 201).',
          );
        }
        continue;
      }
      const expected = status === 416 ? expectedOffset(text) : undefined;
      if (expected !== undefined && expected !== offset && expected < source.size) {
        if (++attempt >= MAX_CHUNK_ATTEMPTS) throw toGraphError(status, answer.headers, text);
        log.warn('upload range refused; continuing where the server expects', {
          offset,
          expected,
        });
        offset = expected;
        continue;
      }
      const retryable = status === 0 || status === 429 || status >= 500;
      const wait = (status === 0 ? undefined : retryAfterMs(answer.headers)) ?? backoffMs(attempt);
      if (!retryable || ++attempt >= MAX_CHUNK_ATTEMPTS || wait > remainingMs(abortSignal) - 250) {
        if (status === 0) {
          throw new UpstreamError(
            'graph_unavailable',
            'The attachment upload could not reach Microsoft Graph.',
          );
        }
        throw toGraphError(status, answer.headers, text);
      }
      log.warn('upload chunk failed, retrying', { status, offset, attempt, waitMs: wait });
      await sleep(wait, abortSignal);
    }
  } finally {
    reader.close();
  }
}

/**
 * `DELETE uploadUrl` (no Authorization): cancels an unfinished session, in one of the mailbox's
 * concurrency slots like the PUTs.
 */
export async function cancelUploadSession(
  uploadUrl: string,
  options: { abortSignal?: AbortSignal | undefined; slot?: MailboxSlot },
): Promise<void> {
  const url = checkUploadUrl(uploadUrl);
  const release = options.slot ? await options.slot(options.abortSignal) : () => {};
  try {
    const answer = await uploadRequest(url, {
      method: 'DELETE',
      abortSignal: options.abortSignal,
    });
    if (answer.status >= 300 && answer.status !== 404) {
      throw toGraphError(answer.status, answer.headers, '');
    }
  } finally {
    release();
  }
}
