import { createHash } from 'node:crypto';

import { type ContainerClient } from '@azure/storage-blob';
import * as z from 'zod';

import { type FieldError, ValidationError } from '../core/errors';
import { isStrictBase64 } from '../core/validators';
import { storageErrorCode, storageStatus, storageUnavailable } from '../storage';
import { type AttachmentInput } from './send-types';

/**
 * Storage helpers shared by templates and bulk jobs: long text split over Table properties, and
 * attachments kept once in blob storage and streamed into each message.
 */

// A Table property holds at most 64 KiB; a whole entity 1 MiB.
const CHUNK_BYTES = 60_000;

/**
 * Stores text as UTF-8 in binary properties `${prefix}0…n`. Binary rather than string: half the
 * size of UTF-16 for Latin text, and it travels as base64, so no multi-byte character can be cut
 * at a chunk or network boundary (Azurite corrupts such characters in large string properties).
 */
export function splitText(prefix: string, text: string): Record<string, Uint8Array | number> {
  const bytes = Buffer.from(text, 'utf8');
  const out: Record<string, Uint8Array | number> = {};
  let index = 0;
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
    out[`${prefix}${index++}`] = new Uint8Array(bytes.subarray(start, start + CHUNK_BYTES));
  }
  out[`${prefix}Chunks`] = index;
  return out;
}

export function joinText(prefix: string, entity: Record<string, unknown>): string {
  const count = Number(entity[`${prefix}Chunks`] ?? 0);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const chunk = entity[`${prefix}${i}`];
    if (chunk instanceof Uint8Array) chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** An attachment as stored: content-addressed, so one blob serves every template version and job. */
export interface AttachmentRef {
  name: string;
  contentType: string;
  size: number;
  sha256: string;
}

export const attachmentInputSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(255)
    .refine(
      (name) => !/[\\/:*?"<>|]/.test(name) && ![...name].some((c) => c.charCodeAt(0) < 0x20),
      'must be a file name without path or control characters',
    ),
  contentType: z
    .string()
    .regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be a media type like application/pdf')
    .default('application/octet-stream'),
  contentBase64: z.string().refine(isStrictBase64, 'must be base64'),
});

export type AttachmentUpload = z.output<typeof attachmentInputSchema>;

export interface AttachmentLimits {
  maxCount: number;
  /** Decoded bytes of all attachments together. */
  maxTotalBytes: number;
}

/** Decodes uploads and checks the limits, naming the offending entry (`attachments[1]`). */
export function decodeAttachments(
  uploads: readonly AttachmentUpload[],
  limits: AttachmentLimits,
  path = 'attachments',
): Array<{ name: string; contentType: string; bytes: Buffer }> {
  const errors: FieldError[] = [];
  if (uploads.length > limits.maxCount) {
    errors.push({ path, message: `at most ${limits.maxCount} attachments` });
  }
  let total = 0;
  const decoded = uploads.map((upload, index) => {
    const bytes = Buffer.from(upload.contentBase64, 'base64');
    total += bytes.length;
    if (bytes.length === 0) errors.push({ path: `${path}[${index}]`, message: 'is empty' });
    return { name: upload.name, contentType: upload.contentType, bytes };
  });
  if (total > limits.maxTotalBytes) {
    errors.push({ path, message: `together larger than ${limits.maxTotalBytes} bytes` });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return decoded;
}

export interface AttachmentBlobs {
  put(
    serviceId: string,
    attachment: { name: string; contentType: string; bytes: Buffer },
  ): Promise<AttachmentRef>;
  /** A send-path attachment whose content streams from the blob each time it is opened. */
  open(serviceId: string, ref: AttachmentRef): AttachmentInput;
}

export const ATTACHMENT_CONTAINER = 'mail-attachments';

export function createAttachmentBlobs(container: () => Promise<ContainerClient>): AttachmentBlobs {
  const blobName = (serviceId: string, sha256: string) => `${serviceId}/${sha256}`;
  return {
    async put(serviceId, attachment) {
      const sha256 = createHash('sha256').update(attachment.bytes).digest('hex');
      const blob = (await container()).getBlockBlobClient(blobName(serviceId, sha256));
      try {
        // Same content, same name: an existing blob already holds these bytes.
        await blob.uploadData(attachment.bytes, {
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: attachment.contentType },
        });
      } catch (error) {
        const code = storageErrorCode(error);
        if (code !== 'BlobAlreadyExists' && storageStatus(error) !== 409) {
          throw storageUnavailable('storing an attachment', error);
        }
      }
      return {
        name: attachment.name,
        contentType: attachment.contentType,
        size: attachment.bytes.length,
        sha256,
      };
    },
    open(serviceId, ref) {
      return {
        name: ref.name,
        contentType: ref.contentType,
        size: ref.size,
        async *open() {
          const blob = (await container()).getBlobClient(blobName(serviceId, ref.sha256));
          const response = await blob.download();
          const stream = response.readableStreamBody;
          if (!stream) throw storageUnavailable('reading an attachment', 'no body');
          for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
        },
      };
    },
  };
}

export const attachmentRefSchema = z.strictObject({
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export function parseAttachmentRefs(json: unknown): AttachmentRef[] {
  return z.array(attachmentRefSchema).parse(JSON.parse(typeof json === 'string' ? json : '[]'));
}
