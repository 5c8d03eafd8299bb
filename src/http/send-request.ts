import { createReadStream } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { Readable } from 'node:stream';

import * as z from 'zod';

import { ValidationError } from '../core/errors';
import { emailAddress, isStrictBase64 } from '../core/validators';
import { fromField, recipients, replyToList } from '../mail/recipients';
import { MAX_ATTACHMENT_BYTES } from '../mail/message-size';
import { type AttachmentInput, type OutgoingMessage } from '../mail/send-types';
import { parseWith } from './parse';

/**
 * What the send route's request says, in either encoding: its schema, its body limits, and how
 * it becomes the typed command the send service takes (`OutgoingMessage`). Syntax is checked here
 * (addresses, base64, enums, unknown fields); Exchange's limits are checked by the send service
 * for every sender.
 */

const MiB = 1024 * 1024;
/** File parts in one multipart request. */
const MAX_FILE_PARTS = 100;
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

/**
 * multipart only: `{"<file part name>": bytes}`. Read into a Map: part names are caller text,
 * never object keys.
 */
export const fileSizes = z.unknown().transform((value, ctx): Map<string, number> => {
  const sizes = new Map<string, number>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'must map file part names to their sizes in bytes' });
    return sizes;
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_FILE_PARTS) {
    ctx.addIssue({ code: 'custom', message: `has more than ${MAX_FILE_PARTS} entries` });
    return sizes;
  }
  for (const [name, size] of entries) {
    if (name.length === 0 || name.length > 255) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'must be 1–255 characters' });
    } else if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'must be a whole number of bytes' });
    } else sizes.set(name, size);
  }
  return sizes;
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
  fileSizes: fileSizes.optional(),
});

export type SendRequest = z.output<typeof sendRequestSchema>;
export type AttachmentEntry = z.output<typeof attachmentSchema>;

/** What every request carrying a message has: send's `attachments`, and its `fileSizes`. */
export interface MessageRequest {
  attachments: AttachmentEntry[];
  fileSizes?: Map<string, number> | undefined;
}

/**
 * What a request that carries a message is made of: its JSON schema (with send's `attachments`
 * and `fileSizes`) and how the parsed JSON and its files become the send service's command.
 */
export interface MessageRequestShape<T extends MessageRequest> {
  schema: z.ZodType<T>;
  toMessage(parsed: T, attachments: AttachmentInput[]): OutgoingMessage;
}

export interface ParsedSendRequest {
  message: OutgoingMessage;
  /** sha256 of what was asked, for Idempotency-Key repeats. */
  fingerprint: string;
  /** Stops reading what is left of the body and deletes spooled files; call once the send is over. */
  dispose(): Promise<void>;
}

export interface ReadSendRequestOptions {
  maxMessageSizeBytes: number;
  /** Where spooled files go; the system's temporary folder when not given. */
  tempDir?: string | undefined;
  abortSignal?: AbortSignal | undefined;
}

function bufferSource(bytes: Buffer): () => AsyncIterable<Uint8Array> {
  return () => Readable.from([bytes], { objectMode: false });
}

/** A spooled file: read from the start each time, or a range at a time into the caller's buffer. */
export function fileSource(path: string): Pick<AttachmentInput, 'open' | 'readAt'> {
  return {
    open: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
    async readAt(into, position) {
      const handle = await openFile(path, 'r');
      try {
        return (await handle.read(into, 0, into.length, position)).bytesRead;
      } finally {
        await handle.close();
      }
    },
  };
}

export function sendMessage(request: SendRequest, attachments: AttachmentInput[]): OutgoingMessage {
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

export function inlineFields(
  entry: AttachmentEntry,
): Pick<AttachmentInput, 'isInline' | 'contentId'> {
  return {
    ...(entry.isInline ? { isInline: true } : {}),
    ...(entry.contentId === undefined ? {} : { contentId: entry.contentId }),
  };
}

export function base64Attachment(entry: AttachmentEntry, index: number): AttachmentInput {
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

/** The multipart `message` part: JSON checked against the same schema as a JSON body. */
export function parseMessagePart<T>(schema: z.ZodType<T>, text: string | undefined): T {
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
  return parseWith(schema, json);
}
