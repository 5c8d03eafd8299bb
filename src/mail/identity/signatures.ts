import { type TableClient } from '@azure/data-tables';
import * as z from 'zod';

import { azureSdk } from '../../core/azure-sdk';
import { type FieldError, isErrorOf, NotFoundError, ValidationError } from '../../core/errors';
import { type CredentialKey } from '../../credentials/types';
import { storageErrorCode, storageUnavailable } from '../../storage';
import { type AttachmentInput } from '../send-types';
import {
  type AttachmentBlobs,
  type AttachmentRef,
  attachmentInputSchema,
  attachmentRefSchema,
  joinText,
  splitText,
} from '../template-storage';
import {
  MAX_SIGNATURE_HTML_BYTES,
  MAX_SIGNATURE_IMAGE_BYTES,
  MAX_SIGNATURE_IMAGES,
  sanitizeSignatureHtml,
  signatureText,
} from './signature-html';

/**
 * Signatures per credential (and per alias), since Graph keeps none: Outlook holds them in the
 * client. One Table entity each (partition = service, row = credential plus the alias); inline
 * images are content-addressed blobs shared with template attachments, so an image is stored once
 * however many signatures and messages use it.
 */

export const SIGNATURE_TABLE = 'signatures';
export const MAX_SIGNATURE_TEXT_CHARS = 8 * 1024;
/** A signature request with images as base64 (data: URIs or `images`). */
export const SIGNATURE_BODY_BYTES = 4 * 1024 * 1024;

/** A template attachment's rules (file name, base64) plus the image's content id. */
const imageSchema = attachmentInputSchema.extend({
  contentId: z
    .string()
    .regex(/^[\x21-\x3b\x3d\x3f-\x7e]{1,100}$/, 'must be 1–100 printable characters without < >'),
  contentType: z.enum(['image/png', 'image/jpeg', 'image/gif', 'image/webp'], {
    error: 'must be image/png, image/jpeg, image/gif or image/webp',
  }),
});

export const signatureInputSchema = z.strictObject({
  html: z.string().min(1, 'is required').max(SIGNATURE_BODY_BYTES),
  text: z.string().max(MAX_SIGNATURE_TEXT_CHARS).optional(),
  default: z.boolean().default(true),
  images: z.array(imageSchema).max(MAX_SIGNATURE_IMAGES).default([]),
});

export type SignatureInput = z.output<typeof signatureInputSchema>;

type ImageRef = AttachmentRef & { contentId: string };

export interface StoredSignature {
  /** The alias it belongs to, or null for the credential's own. */
  from: string | null;
  html: string;
  text: string;
  /** Appended when a send does not say `signature: true|false`. */
  default: boolean;
  images: ImageRef[];
  updatedAt: string;
}

/** The public view: images without their storage hash. */
export function signatureView(signature: StoredSignature) {
  return {
    ...signature,
    images: signature.images.map(({ contentId, name, contentType, size }) => ({
      contentId,
      name,
      contentType,
      size,
    })),
  };
}

export interface SignatureService {
  put(
    key: CredentialKey,
    from: string | undefined,
    input: SignatureInput,
  ): Promise<StoredSignature>;
  get(key: CredentialKey, from: string | undefined): Promise<StoredSignature>;
  remove(key: CredentialKey, from: string | undefined): Promise<void>;
  /**
   * Removes the credential's signature and those of its aliases (the credential was deleted).
   * Their images stay: blobs are content-addressed and may be shared with templates.
   */
  removeAll(key: CredentialKey): Promise<void>;
  /** The signature a message from `from` carries: the alias's own, else the credential's. */
  forSender(key: CredentialKey, from: string | undefined): Promise<StoredSignature | undefined>;
  /** The signature's images as inline attachments of a message. */
  images(serviceId: string, signature: StoredSignature): AttachmentInput[];
}

type Entity = Record<string, unknown>;

const rowKey = (credentialId: string, from: string | undefined) =>
  from === undefined ? credentialId : `${credentialId}~${from.toLowerCase()}`;

function fromEntity(entity: Entity): StoredSignature {
  return {
    from: typeof entity.from === 'string' && entity.from !== '' ? entity.from : null,
    html: joinText('html', entity),
    text: joinText('text', entity),
    default: entity.isDefault === true,
    images: z
      .array(attachmentRefSchema.extend({ contentId: z.string() }))
      .parse(JSON.parse(typeof entity.images === 'string' ? entity.images : '[]')),
    updatedAt: String(entity.updatedAt),
  };
}

/** Sanitises the HTML and checks that images and `cid:` references match, naming what does not. */
function prepare(input: SignatureInput) {
  const errors: FieldError[] = [];
  const clean = sanitizeSignatureHtml(input.html);
  if (Buffer.byteLength(clean.html, 'utf8') > MAX_SIGNATURE_HTML_BYTES) {
    errors.push({
      path: 'html',
      message: `is larger than ${MAX_SIGNATURE_HTML_BYTES} bytes once images are taken out`,
    });
  }
  if (clean.html === '') errors.push({ path: 'html', message: 'has nothing a mail may show' });
  const given = input.images.map((image, index) => {
    const bytes = Buffer.from(image.contentBase64, 'base64');
    if (bytes.length === 0) errors.push({ path: `images[${index}]`, message: 'is empty' });
    if (!clean.contentIds.includes(image.contentId.toLowerCase())) {
      errors.push({
        path: `images[${index}].contentId`,
        message: `is not referenced as cid:${image.contentId} in html`,
      });
    }
    return { contentId: image.contentId, name: image.name, contentType: image.contentType, bytes };
  });
  for (const id of clean.contentIds) {
    if (!given.some((g) => g.contentId.toLowerCase() === id)) {
      errors.push({ path: 'html', message: `refers to cid:${id}, which no entry of images gives` });
    }
  }
  const images = [...clean.images, ...given];
  if (images.length > MAX_SIGNATURE_IMAGES) {
    errors.push({ path: 'images', message: `at most ${MAX_SIGNATURE_IMAGES} images in all` });
  }
  const total = images.reduce((sum, i) => sum + i.bytes.length, 0);
  if (total > MAX_SIGNATURE_IMAGE_BYTES) {
    errors.push({
      path: 'images',
      message: `together larger than ${MAX_SIGNATURE_IMAGE_BYTES} bytes (data: URIs included)`,
    });
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return { html: clean.html, text: input.text?.trim() || signatureText(clean.html), images };
}

export interface SignatureDependencies {
  table: () => Promise<TableClient>;
  attachments: AttachmentBlobs;
}

export function createSignatureService(deps: SignatureDependencies): SignatureService {
  async function read(key: CredentialKey, from: string | undefined): Promise<StoredSignature> {
    const table = await deps.table();
    try {
      return fromEntity(
        await table.getEntity<Entity>(key.serviceId, rowKey(key.credentialId, from)),
      );
    } catch (error) {
      if (storageErrorCode(error) === 'ResourceNotFound') {
        throw new NotFoundError(from === undefined ? 'The signature' : `The signature of ${from}`);
      }
      throw storageUnavailable('reading a signature', error);
    }
  }

  async function optional(key: CredentialKey, from: string | undefined) {
    try {
      return await read(key, from);
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) return undefined;
      throw error;
    }
  }

  return {
    async put(key, from, input) {
      const prepared = prepare(input);
      const images = await Promise.all(
        prepared.images.map(async (image) => ({
          ...(await deps.attachments.put(key.serviceId, image)),
          contentId: image.contentId,
        })),
      );
      const signature: StoredSignature = {
        from: from?.toLowerCase() ?? null,
        html: prepared.html,
        text: prepared.text,
        default: input.default,
        images,
        updatedAt: new Date().toISOString(),
      };
      const table = await deps.table();
      try {
        await table.upsertEntity(
          {
            partitionKey: key.serviceId,
            rowKey: rowKey(key.credentialId, from),
            credentialId: key.credentialId,
            from: signature.from ?? '',
            ...splitText('html', signature.html),
            ...splitText('text', signature.text),
            isDefault: signature.default,
            images: JSON.stringify(images),
            updatedAt: signature.updatedAt,
          },
          'Replace',
        );
      } catch (error) {
        throw storageUnavailable('storing a signature', error);
      }
      return signature;
    },

    get: read,

    async remove(key, from) {
      const table = await deps.table();
      try {
        await table.deleteEntity(key.serviceId, rowKey(key.credentialId, from));
      } catch (error) {
        if (storageErrorCode(error) === 'ResourceNotFound') {
          throw new NotFoundError(
            from === undefined ? 'The signature' : `The signature of ${from}`,
          );
        }
        throw storageUnavailable('deleting a signature', error);
      }
    },

    async removeAll(key) {
      const table = await deps.table();
      try {
        const rows = table.listEntities<Entity>({
          queryOptions: {
            filter: azureSdk.dataTables()
              .odata`PartitionKey eq ${key.serviceId} and credentialId eq ${key.credentialId}`,
            select: ['RowKey'],
          },
        });
        for await (const row of rows) {
          try {
            await table.deleteEntity(key.serviceId, String(row.rowKey));
          } catch (error) {
            if (storageErrorCode(error) !== 'ResourceNotFound') throw error;
          }
        }
      } catch (error) {
        throw storageUnavailable('deleting signatures', error);
      }
    },

    async forSender(key, from) {
      return (
        (from === undefined ? undefined : await optional(key, from)) ?? optional(key, undefined)
      );
    },

    images(serviceId, signature) {
      return signature.images.map((ref) => ({
        ...deps.attachments.open(serviceId, ref),
        isInline: true,
        contentId: ref.contentId,
        path: `signature.images.${ref.contentId}`,
      }));
    },
  };
}
