import { createHash } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';

import { type FieldError, ValidationError } from '../core/errors';
import { UPLOAD_SESSION_MIN_BYTES } from '../graph/uploads';
import { MAX_ATTACHMENT_BYTES } from '../mail/message-size';
import { type AttachmentInput } from '../mail/send-types';
import {
  DeclaredParts,
  declaredPath,
  missingParts,
  sizeMismatch,
  undeclaredPart,
} from './declared-parts';
import { type MultipartBody, readMultipart, type SpooledFile } from './multipart';
import {
  base64Attachment,
  fileSource,
  type AttachmentEntry,
  inlineFields,
  maxJsonBodyBytes,
  maxMultipartBodyBytes,
  type MessageRequest,
  type MessageRequestShape,
  type ParsedSendRequest,
  parseMessagePart,
  type ReadSendRequestOptions,
} from './send-request';

/**
 * A multipart/form-data body carrying a message (send, reply, forward): a `message` JSON part and
 * file parts, in one of two
 * ways. When the `message` part comes first and declares the file parts' sizes (`fileSizes`),
 * the send starts at once and the files flow to Graph while they arrive; otherwise every file is
 * spooled to a temporary file first, and the send starts once the body is read.
 */

/** A file part as the send sees it, by its form field name. */
interface FilePart {
  field: string;
  attachment: AttachmentInput;
}

/** An `attachments` entry's name, type and inline flags over the file part it describes. */
function described(attachment: AttachmentInput, entry: AttachmentEntry): AttachmentInput {
  const named = {
    ...(entry.name === undefined ? {} : { name: entry.name }),
    ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
  };
  const { arrival } = attachment;
  return {
    ...attachment,
    ...named,
    ...inlineFields(entry),
    ...(arrival ? { arrival: async () => ({ ...(await arrival()), ...named }) } : {}),
  };
}

/**
 * Multipart attachments: `attachments` entries with `contentBase64` as in JSON, entries with
 * `file` describe the file part of that field name (inline flags, another name or type), and every
 * file part nobody described is attached as it came.
 */
function multipartAttachments(request: MessageRequest, files: FilePart[]): AttachmentInput[] {
  const errors: FieldError[] = [];
  const used = new Set<FilePart>();
  const attachments = request.attachments.map((entry, index): AttachmentInput => {
    if (entry.file === undefined) return base64Attachment(entry, index);
    const matches = files.filter((f) => f.field === entry.file);
    const file = matches[0];
    if (matches.length !== 1 || !file || used.has(file)) {
      errors.push({
        path: `attachments[${index}].file`,
        message:
          matches.length === 0
            ? `no file part is named "${entry.file}"`
            : `must name exactly one file part, described once ("${entry.file}")`,
      });
      return base64Attachment({ ...entry, contentBase64: '' }, index);
    }
    used.add(file);
    return described(file.attachment, entry);
  });
  if (errors.length > 0) throw new ValidationError(errors);
  return [...attachments, ...files.filter((f) => !used.has(f)).map((f) => f.attachment)];
}

const spooledPart = (file: SpooledFile): FilePart => ({
  field: file.field,
  attachment: {
    name: file.filename,
    contentType: file.contentType,
    size: file.size,
    ...fileSource(file.path),
    path: `files[${file.index}]`,
  },
});

/** Sizes declared by a `message` part that came after the files are checked once they are in. */
function checkDeclaredSizes(sizes: ReadonlyMap<string, number>, files: SpooledFile[]): void {
  for (const file of files) {
    const declared = sizes.get(file.field);
    if (declared === undefined) throw undeclaredPart(file, false);
    if (declared !== file.size) throw sizeMismatch(file, declared, `has ${file.size} bytes`);
  }
  const missing = [...sizes.keys()].filter((name) => !files.some((f) => f.field === name));
  if (missing.length > 0) throw missingParts(missing);
}

/**
 * A fingerprint of a spooled request's content (message part, then each file's field, name, type
 * and sha256) rather than its raw bytes: a client retrying with a new boundary is the same request.
 */
function spooledFingerprint(body: MultipartBody): string {
  const hash = createHash('sha256').update(body.fields.get('message') ?? '', 'utf8');
  for (const file of body.files) {
    hash.update(`\n${file.field}\n${file.filename}\n${file.contentType}\n${file.sha256}`, 'utf8');
  }
  return hash.digest('hex');
}

function spooledRequest<T extends MessageRequest>(
  body: MultipartBody,
  shape: MessageRequestShape<T>,
): ParsedSendRequest {
  const parsed = parseMessagePart(shape.schema, body.fields.get('message'));
  if (parsed.fileSizes !== undefined) checkDeclaredSizes(parsed.fileSizes, body.files);
  return {
    message: shape.toMessage(parsed, multipartAttachments(parsed, body.files.map(spooledPart))),
    fingerprint: spooledFingerprint(body),
    dispose: () => body.dispose(),
  };
}

/**
 * Whether the files flow through: their sizes are declared and one of them needs an upload
 * session (smaller files are spooled, so a message that fits one request still goes in one).
 */
const flowsThrough = (sizes: Map<string, number> | undefined): sizes is Map<string, number> =>
  [...(sizes?.values() ?? [])].some((size) => size >= UPLOAD_SESSION_MIN_BYTES);

interface Flowing<T extends MessageRequest> {
  request: T;
  sizes: Map<string, number>;
  parts: DeclaredParts;
  /** The `message` part as sent: with the sizes it declares, what Idempotency-Key compares. */
  text: string;
}

function flowingRequest<T extends MessageRequest>(
  { request, sizes, parts, text }: Flowing<T>,
  shape: MessageRequestShape<T>,
  body: Promise<MultipartBody>,
  stop: AbortController,
): ParsedSendRequest {
  const received = body.then(
    () => parts.finish(),
    (error: Error) => parts.finish(error),
  );
  received.catch(() => undefined); // the send hears of it when it asks
  const dispose = async () => {
    stop.abort();
    await (await body.catch(() => undefined))?.dispose();
  };
  const files = [...sizes.keys()].map((field): FilePart => ({
    field,
    attachment: {
      name: field,
      contentType: 'application/octet-stream',
      path: declaredPath(field),
      ...parts.input(field),
    },
  }));
  let attachments: AttachmentInput[];
  try {
    attachments = multipartAttachments(request, files);
  } catch (error) {
    void dispose();
    throw error;
  }
  return {
    message: { ...shape.toMessage(request, attachments), received: () => received },
    fingerprint: createHash('sha256').update(`declared sizes\n${text}`, 'utf8').digest('hex'),
    dispose,
  };
}

export async function readMultipartMessage<T extends MessageRequest>(
  request: HttpRequest,
  shape: MessageRequestShape<T>,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  const stop = new AbortController();
  let flowing: Flowing<T> | undefined;
  let started!: () => void;
  const starting = new Promise<void>((resolve) => (started = resolve));
  const body = readMultipart(request, {
    fieldNames: ['message'],
    maxBodyBytes: maxMultipartBodyBytes(),
    maxFileBytes: MAX_ATTACHMENT_BYTES,
    maxTotalFileBytes: options.maxMessageSizeBytes,
    // The message part, as a field or as a file, is what a JSON body would be: the same limit.
    maxFieldBytes: maxJsonBodyBytes(options.maxMessageSizeBytes),
    ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
    ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
    stopSignal: stop.signal,
    // A message part ahead of the files is checked before they are read.
    takeFiles: (fields) => {
      const text = fields.get('message');
      if (text === undefined) return undefined;
      const parsed = parseMessagePart(shape.schema, text);
      const sizes = parsed.fileSizes;
      if (!flowsThrough(sizes)) return undefined;
      const parts = new DeclaredParts(sizes);
      flowing = { request: parsed, sizes, parts, text };
      started();
      return parts.take;
    },
  });
  const first = await Promise.race([
    body.then(
      (spooled) => ({ spooled }),
      (error: unknown) => ({ error }),
    ),
    starting.then(() => ({})),
  ]);
  if ('error' in first) throw first.error;
  if (flowing) return flowingRequest(flowing, shape, body, stop);
  const spooled = (first as { spooled: MultipartBody }).spooled;
  try {
    return spooledRequest(spooled, shape);
  } catch (error) {
    await spooled.dispose();
    throw error;
  }
}
