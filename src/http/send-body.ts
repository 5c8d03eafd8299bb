import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import { type FieldError, UnsupportedMediaTypeError, ValidationError } from '../core/errors';
import { emailAddress, isEmailAddress, isStrictBase64 } from '../core/validators';
import { MAX_ATTACHMENT_BYTES } from '../mail/send-limits';
import { type AttachmentInput, type OutgoingMessage, type Recipient } from '../mail/send-types';
import { type MultipartBody, readMultipart } from './multipart';
import { mediaType, parseWith, readJson } from './parse';

/**
 * The send route's request: JSON with base64 attachments, or multipart/form-data with a
 * `message` JSON part and streamed file parts. Read here at the edge into the typed command the
 * send service takes (`OutgoingMessage`). Syntax is checked here (addresses, base64, enums,
 * unknown fields); Exchange's limits are checked by the send service for every sender.
 */

const MiB = 1024 * 1024;
/** Multipart headers and an ordinary message part on top of the files themselves. */
export const MULTIPART_OVERHEAD_BYTES = 10 * MiB;

/** The largest JSON body: the message size limit after base64 (4/3), plus 1 MiB for the rest. */
export function maxJsonBodyBytes(maxMessageSizeBytes: number): number {
  return Math.ceil((maxMessageSizeBytes * 4) / 3) + MiB;
}

/**
 * The largest multipart body: files of up to 150 MiB always stream in (so an oversized file is
 * refused naming its part, not the whole body), plus the per-part overhead.
 */
export function maxMultipartBodyBytes(): number {
  return MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD_BYTES;
}

/** The route's body limit: whichever of the two encodings allows more. */
export function maxSendBodyBytes(maxMessageSizeBytes: number): number {
  return Math.max(maxJsonBodyBytes(maxMessageSizeBytes), maxMultipartBodyBytes());
}

/**
 * A display name as it goes into From, To or Reply-To: one line (a line break would start another
 * header in the MIME Exchange builds), no control characters, at most 255 characters.
 */
export const displayName = z
  .string()
  .max(255, 'must be at most 255 characters')
  .refine((name) => ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: 'must be one line without control characters',
  });

/** A recipient as a string or `{address, name}`. */
const recipient = z.unknown().transform((value, ctx): Recipient => {
  if (typeof value === 'string') {
    if (!isEmailAddress(value))
      ctx.addIssue({ code: 'custom', message: 'is not a valid email address' });
    return { address: value };
  }
  const parsed = z
    .strictObject({
      address: emailAddress('is not a valid email address'),
      name: displayName.optional(),
    })
    .safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue(
        issue.code === 'unrecognized_keys'
          ? { code: 'custom', message: `has unknown fields: ${issue.keys.join(', ')}` }
          : { code: 'custom', message: issue.message, path: issue.path },
      );
    }
    return { address: '' };
  }
  return parsed.data.name === undefined
    ? { address: parsed.data.address }
    : { address: parsed.data.address, name: parsed.data.name };
});

/** A single recipient or a list of them. */
export const recipients = z.preprocess(
  (value) => (value === undefined || Array.isArray(value) ? value : [value]),
  z.array(recipient).max(1000, 'has too many entries').default([]),
);

/** Reply-To addresses: Outlook offers a handful; more is a mistake, not a use. */
export const MAX_REPLY_TO = 10;
export const replyToList = z.preprocess(
  (value) => (value === undefined || Array.isArray(value) ? value : [value]),
  z.array(recipient).max(MAX_REPLY_TO, `at most ${MAX_REPLY_TO} addresses`).default([]),
);

/** `from`: an address (or `{address, name}`) the credential may send as. */
export const fromField = recipient;

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/;

export const attachmentSchema = z
  .strictObject({
    name: z.string().min(1).max(255).optional(),
    contentType: z.string().regex(MEDIA_TYPE, 'is not a media type').max(255).optional(),
    contentBase64: z.string().refine(isStrictBase64, 'is not valid base64').optional(),
    /** multipart only: the form field name of the file part this entry describes. */
    file: z.string().min(1).max(255).optional(),
    isInline: z.boolean().default(false),
    contentId: z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 printable characters')
      .optional(),
  })
  .superRefine((value, ctx) => {
    if ((value.contentBase64 === undefined) === (value.file === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['contentBase64'],
        message: 'give either contentBase64 or (multipart) file',
      });
    }
    if (value.contentBase64 !== undefined && value.name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'is required' });
    }
    if (value.isInline && value.contentId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['contentId'],
        message: 'is required for an inline attachment (referenced as cid: in the HTML body)',
      });
    }
  });

export const sendRequestSchema = z.strictObject({
  to: recipients,
  cc: recipients,
  bcc: recipients,
  replyTo: replyToList,
  subject: z
    .string()
    .max(16 * 1024)
    .default(''),
  body: z.string().default(''),
  contentType: z.enum(['text', 'html'], { error: 'must be text or html' }).default('text'),
  importance: z
    .enum(['low', 'normal', 'high'], { error: 'must be low, normal or high' })
    .default('normal'),
  saveToSentItems: z.boolean().default(true),
  headers: z.record(z.string(), z.string()).default({}),
  attachments: z.array(attachmentSchema).max(250, 'has too many entries').default([]),
  mailbox: emailAddress('must be the email address (UPN) of a mailbox').optional(),
  from: fromField.optional(),
  /** Append the credential's signature (default: the signature's own `default`). */
  signature: z.boolean().optional(),
});

export type SendRequest = z.output<typeof sendRequestSchema>;
type AttachmentEntry = z.output<typeof attachmentSchema>;

export interface ParsedSendRequest {
  message: OutgoingMessage;
  /** sha256 of what was asked, for Idempotency-Key repeats. */
  fingerprint: string;
  /** Deletes spooled files; call once the send is over. */
  dispose(): Promise<void>;
}

export interface ReadSendRequestOptions {
  maxMessageSizeBytes: number;
  tempDir?: string;
  abortSignal?: AbortSignal;
}

function bufferSource(bytes: Buffer): () => AsyncIterable<Uint8Array> {
  return () => Readable.from([bytes], { objectMode: false });
}

function fileSource(path: string): () => AsyncIterable<Uint8Array> {
  return () => createReadStream(path, { highWaterMark: 256 * 1024 });
}

function sendMessage(request: SendRequest, attachments: AttachmentInput[]): OutgoingMessage {
  return {
    to: request.to,
    cc: request.cc,
    bcc: request.bcc,
    replyTo: request.replyTo,
    subject: request.subject,
    body: request.body,
    contentType: request.contentType,
    importance: request.importance,
    saveToSentItems: request.saveToSentItems,
    headers: request.headers,
    attachments,
    ...(request.mailbox === undefined ? {} : { mailbox: request.mailbox }),
    ...(request.from === undefined ? {} : { from: request.from }),
    ...(request.signature === undefined ? {} : { signature: request.signature }),
  };
}

function inlineFields(entry: AttachmentEntry): Pick<AttachmentInput, 'isInline' | 'contentId'> {
  return {
    ...(entry.isInline ? { isInline: true } : {}),
    ...(entry.contentId === undefined ? {} : { contentId: entry.contentId }),
  };
}

function base64Attachment(entry: AttachmentEntry, index: number): AttachmentInput {
  const bytes = Buffer.from(entry.contentBase64 ?? '', 'base64');
  return {
    name: entry.name ?? 'attachment',
    contentType: entry.contentType ?? 'application/octet-stream',
    size: bytes.length,
    open: bufferSource(bytes),
    path: `attachments[${index}]`,
    ...inlineFields(entry),
  };
}

function jsonAttachments(request: { attachments: AttachmentEntry[] }): AttachmentInput[] {
  const errors = request.attachments.flatMap((entry, index): FieldError[] =>
    entry.file === undefined
      ? []
      : [
          {
            path: `attachments[${index}].file`,
            message: 'refers to a file part, which only a multipart/form-data request has',
          },
        ],
  );
  if (errors.length > 0) throw new ValidationError(errors);
  return request.attachments.map(base64Attachment);
}

/**
 * Multipart attachments: `attachments` entries with `contentBase64` as in JSON, entries with
 * `file` describe the file part of that field name (inline flags, another name or type), and every
 * file part nobody described is attached as it came.
 */
function multipartAttachments(
  request: { attachments: AttachmentEntry[] },
  body: MultipartBody,
): AttachmentInput[] {
  const errors: FieldError[] = [];
  const described = new Set<number>();
  const fromFile = (file: MultipartBody['files'][number]) => ({
    name: file.filename,
    contentType: file.contentType,
    size: file.size,
    open: fileSource(file.path),
    path: `files[${file.index}]`,
  });
  const attachments = request.attachments.map((entry, index): AttachmentInput => {
    if (entry.file === undefined) return base64Attachment(entry, index);
    const matches = body.files.filter((f) => f.field === entry.file);
    const file = matches[0];
    if (matches.length !== 1 || !file || described.has(file.index)) {
      errors.push({
        path: `attachments[${index}].file`,
        message:
          matches.length === 0
            ? `no file part is named "${entry.file}"`
            : `must name exactly one file part, described once ("${entry.file}")`,
      });
      return base64Attachment({ ...entry, contentBase64: '' }, index);
    }
    described.add(file.index);
    return {
      ...fromFile(file),
      ...(entry.name === undefined ? {} : { name: entry.name }),
      ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
      ...inlineFields(entry),
    };
  });
  if (errors.length > 0) throw new ValidationError(errors);
  return [...attachments, ...body.files.filter((f) => !described.has(f.index)).map(fromFile)];
}

/**
 * A fingerprint of a multipart request's content (message part, then each file's field, name,
 * type and sha256) rather than its raw bytes: a client retrying with a new boundary is the same
 * request.
 */
function multipartFingerprint(body: MultipartBody): string {
  const hash = createHash('sha256').update(body.fields.get('message') ?? '', 'utf8');
  for (const file of body.files) {
    hash.update(`\n${file.field}\n${file.filename}\n${file.contentType}\n${file.sha256}`, 'utf8');
  }
  return hash.digest('hex');
}

/**
 * What a request that carries a message is made of: its JSON schema (with send's `attachments`)
 * and how the parsed JSON and its files become the send service's command.
 */
export interface MessageRequestShape<T extends { attachments: AttachmentEntry[] }> {
  schema: z.ZodType<T>;
  toMessage(parsed: T, attachments: AttachmentInput[]): OutgoingMessage;
}

const SEND_SHAPE: MessageRequestShape<SendRequest> = {
  schema: sendRequestSchema,
  toMessage: sendMessage,
};

async function readMultipartMessage<T extends { attachments: AttachmentEntry[] }>(
  request: HttpRequest,
  shape: MessageRequestShape<T>,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  const body = await readMultipart(request, {
    fieldNames: ['message'],
    maxBodyBytes: maxMultipartBodyBytes(),
    maxFileBytes: MAX_ATTACHMENT_BYTES,
    maxTotalFileBytes: options.maxMessageSizeBytes,
    // The message part, as a field or as a file, is what a JSON body would be: the same limit.
    maxFieldBytes: maxJsonBodyBytes(options.maxMessageSizeBytes),
    ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
    ...(options.abortSignal === undefined ? {} : { abortSignal: options.abortSignal }),
  });
  try {
    const text = body.fields.get('message');
    if (text === undefined) {
      throw new ValidationError({
        path: 'message',
        message: 'is required: a form field with the message as JSON',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ValidationError({
        path: 'message',
        message: `is not valid JSON: ${(error as Error).message}`,
      });
    }
    const parsed = parseWith(shape.schema, json);
    return {
      message: shape.toMessage(parsed, multipartAttachments(parsed, body)),
      fingerprint: multipartFingerprint(body),
      dispose: () => body.dispose(),
    };
  } catch (error) {
    await body.dispose();
    throw error;
  }
}

/**
 * Reads and checks a request carrying a message (send, reply, forward) in either encoding: JSON
 * with base64 files, or multipart with a `message` part and streamed files; 415 for anything else.
 */
export async function readMessageRequest<T extends { attachments: AttachmentEntry[] }>(
  request: HttpRequest,
  shape: MessageRequestShape<T>,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  const type = mediaType(request);
  if (type === 'multipart/form-data') return readMultipartMessage(request, shape, options);
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new UnsupportedMediaTypeError(
      'Send the message as application/json, or as multipart/form-data with a message part and file parts.',
    );
  }
  const { value, bytes } = await readJson(request, shape.schema, {
    maxBytes: maxJsonBodyBytes(options.maxMessageSizeBytes),
  });
  return {
    message: shape.toMessage(value, jsonAttachments(value)),
    fingerprint: createHash('sha256').update(bytes).digest('hex'),
    dispose: async () => {},
  };
}

/** Reads and checks a send request in either encoding. */
export function readSendRequest(
  request: HttpRequest,
  options: ReadSendRequestOptions,
): Promise<ParsedSendRequest> {
  return readMessageRequest(request, SEND_SHAPE, options);
}
