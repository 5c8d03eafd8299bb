import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';

/** How an attachment is described, whatever holds its bytes. */
interface AttachmentCommon {
  /** File name the recipient sees (default: the file's own name). */
  name?: string;
  /** Default `application/octet-stream`. */
  contentType?: string;
  /** An inline image, referenced as `cid:{contentId}` in an HTML body. */
  isInline?: boolean;
  contentId?: string;
}

/** An attachment from memory (a string is sent as its UTF-8 bytes), a file, or a stream. */
export type AttachmentSource = AttachmentCommon &
  (
    | { name: string; content: Uint8Array | string }
    | { path: string }
    | {
        name: string;
        stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
        /** Exact byte count, when known. */
        size?: number;
      }
  );

/** An attachment made ready to send: its bytes can be read (again, when `replayable`). */
export interface PreparedAttachment {
  name: string;
  contentType: string;
  isInline: boolean;
  contentId: string | undefined;
  size: number | undefined;
  /** In memory: small ones travel inline in a JSON body. */
  bytes: Uint8Array | undefined;
  /** False for a caller's stream: it can be read once, so that request is never retried. */
  replayable: boolean;
  open(): AsyncIterable<Uint8Array>;
}

async function* chunksOf(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): AsyncIterable<Uint8Array> {
  if (!('getReader' in stream)) {
    yield* stream;
    return;
  }
  const reader = stream.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
  } finally {
    reader.releaseLock();
  }
}

/** `type/subtype[; params]` on one line: it becomes a part header. */
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(;[^\r\n]*)?$/;

export async function prepareAttachment(source: AttachmentSource): Promise<PreparedAttachment> {
  const contentType = source.contentType ?? 'application/octet-stream';
  if (!MEDIA_TYPE.test(contentType)) {
    throw new TypeError(
      `attachment contentType ${JSON.stringify(contentType)} is not a media type`,
    );
  }
  const common = {
    contentType,
    isInline: source.isInline ?? false,
    contentId: source.contentId,
  };
  if ('content' in source) {
    const bytes =
      typeof source.content === 'string'
        ? new TextEncoder().encode(source.content)
        : source.content;
    return {
      ...common,
      name: source.name,
      size: bytes.byteLength,
      bytes,
      replayable: true,
      // eslint-disable-next-line @typescript-eslint/require-await -- one chunk, as an async source
      open: async function* () {
        yield bytes;
      },
    };
  }
  if ('path' in source) {
    const { size } = await stat(source.path);
    const path = source.path;
    return {
      ...common,
      name: source.name ?? basename(path),
      size,
      bytes: undefined,
      replayable: true,
      open: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
    };
  }
  let opened = false;
  const stream = source.stream;
  return {
    ...common,
    name: source.name,
    size: source.size,
    bytes: undefined,
    replayable: false,
    open: () => {
      if (opened) throw new Error(`attachment "${source.name}": a stream can be sent only once`);
      opened = true;
      return chunksOf(stream);
    },
  };
}
