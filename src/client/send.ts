import { type AttachmentSource, type PreparedAttachment, prepareAttachment } from './attachments';
import { filePart, multipartBody } from './multipart';
import { type components } from './schema';

type Schemas = components['schemas'];

/** A route's JSON with its attachments as bytes, files or streams. */
type WithSources<Request> = Omit<Request, 'attachments'> & { attachments?: AttachmentSource[] };

/** What `sendMail` takes: the send route's JSON, with attachments as bytes, files or streams. */
export type SendMailInput = WithSources<Schemas['SendRequest']>;
/** What `reply` takes (the reply route's JSON), attachments as for `sendMail`. */
export type ReplyInput = WithSources<Schemas['ReplyRequest']>;
/** What `forward` takes (the forward route's JSON), attachments as for `sendMail`. */
export type ForwardInput = WithSources<Schemas['ForwardRequest']>;
/** What `drafts.create` takes: send's, a reply's with `replyTo` or a forward's with `forwardOf`. */
export type DraftInput =
  SendMailInput | (ReplyInput & { replyTo: string }) | (ForwardInput & { forwardOf: string });

/** In-memory attachments up to this total travel base64 in one JSON body; the rest streams. */
export const JSON_ATTACHMENTS_LIMIT = 3 * 1024 * 1024;

export interface SendBody {
  /** A fresh body for each attempt. */
  body(): string | ReadableStream<Uint8Array>;
  contentType: string;
  /** False when a caller's stream is in it: that request cannot be repeated. */
  replayable: boolean;
}

/**
 * The request options that carry a `SendBody` (built per attempt): openapi-fetch passes the body
 * through as it is, and a stream needs `duplex: 'half'`.
 */
export function bodyInit(prepared: SendBody, signal: AbortSignal | null) {
  return {
    body: prepared.body(),
    bodySerializer: (body: unknown) => body as string,
    headers: { 'content-type': prepared.contentType },
    duplex: 'half',
    signal,
  };
}

function describe(file: PreparedAttachment) {
  return {
    ...(file.isInline ? { isInline: true } : {}),
    ...(file.contentId === undefined ? {} : { contentId: file.contentId }),
  };
}

/**
 * JSON when every attachment is small and in memory (one request, nothing to stream), otherwise
 * multipart/form-data streamed from the sources, a `message` part then one file part each; the
 * `message` part declares the files' sizes when all are known (docs/send.md).
 */
export async function sendBody(
  input: SendMailInput | ReplyInput | ForwardInput,
): Promise<SendBody> {
  const { attachments: sources = [], ...message } = input;
  const files = await Promise.all(sources.map(prepareAttachment));
  const inMemory = files.reduce((sum, f) => sum + (f.bytes?.byteLength ?? Infinity), 0);
  if (inMemory <= JSON_ATTACHMENTS_LIMIT) {
    const json = JSON.stringify({
      ...message,
      ...(files.length === 0
        ? {}
        : {
            attachments: files.map((f) => ({
              name: f.name,
              contentType: f.contentType,
              contentBase64: Buffer.from(f.bytes!).toString('base64'),
              ...describe(f),
            })),
          }),
    });
    return { body: () => json, contentType: 'application/json', replayable: true };
  }
  const boundary = `----outlook-mail-${crypto.randomUUID()}`;
  // Sizes declared up front let the service upload each file while it streams in.
  const sizes = files.map((f, index) => [filePart(index), f.size] as const);
  const part = {
    ...message,
    attachments: files.map((f, index) => ({ file: filePart(index), ...describe(f) })),
    ...(sizes.every(([, size]) => size !== undefined)
      ? { fileSizes: Object.fromEntries(sizes) }
      : {}),
  };
  return {
    body: () => multipartBody(part, files, boundary),
    contentType: `multipart/form-data; boundary=${boundary}`,
    replayable: files.every((f) => f.replayable),
  };
}
