import { randomUUID } from 'node:crypto';

import { type TableClient } from '@azure/data-tables';
import * as z from 'zod';

import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  PreconditionFailedError,
  ValidationError,
} from '../core/errors';
import { idSchema } from '../core/validators';
import { describeOverLimit, messageSize } from './message-size';
import { replyToList, type SenderFields, type SenderName, templateFrom } from './recipients';
import { type Recipient } from './send-types';
import { storageErrorCode, storageUnavailable } from '../storage';
import {
  checkTemplate,
  compileTemplate,
  type ContentType,
  type Rendered,
  type RenderInput,
  renderTemplate,
} from './template-render';
import {
  type AttachmentBlobs,
  type AttachmentRef,
  attachmentInputSchema,
  decodeAttachments,
  joinText,
  parseAttachmentRefs,
  splitText,
} from './template-storage';

/**
 * Mail templates per service in Table Storage (partition = serviceId, row = templateId).
 *
 * Size: a Table entity holds at most 1 MiB and a property 64 KiB, so the body is stored as UTF-8
 * split over binary `body0…bodyN` properties of the same entity (at most MAX_BODY_BYTES). Keeping the whole template
 * in one entity means one read, and one ETag guards every update, so versions never interleave.
 * Default attachments live in blob storage (content-addressed); the entity keeps their references.
 */

/** UTF-8 bytes of a body: what fits one entity beside the other properties. */
export const MAX_BODY_BYTES = 900_000;
export const MAX_TEMPLATE_ATTACHMENTS = 10;
export const MAX_TEMPLATE_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const TEMPLATE_TABLE = 'templates';

export interface Template {
  templateId: string;
  name: string;
  subject: string;
  body: string;
  contentType: ContentType;
  attachments: AttachmentRef[];
  /** Who messages made from it go out as (a name, an address or both), unless a send says. */
  from: SenderName | null;
  /** Where replies go, unless a send says. */
  replyTo: Recipient[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The public view: attachments without their storage hash. */
export function templateView(template: Template) {
  return {
    ...template,
    attachments: template.attachments.map(({ name, contentType, size }) => ({
      name,
      contentType,
      size,
    })),
  };
}

export const templateIdSchema = idSchema;

/** Subject, body and content type: also accepted inline by a bulk send. */
export const templatePartsSchema = z.strictObject({
  subject: z.string().min(1, 'is required').max(998),
  body: z
    .string()
    .refine(
      (body) => Buffer.byteLength(body, 'utf8') <= MAX_BODY_BYTES,
      `at most ${MAX_BODY_BYTES} bytes as UTF-8`,
    ),
  contentType: z.enum(['text', 'html']).default('text'),
});

export const templateInputSchema = templatePartsSchema.extend({
  name: z.string().min(1, 'is required').max(200),
  attachments: z.array(attachmentInputSchema).max(MAX_TEMPLATE_ATTACHMENTS).optional(),
  from: templateFrom.optional(),
  replyTo: replyToList.optional(),
});

export const createTemplateSchema = templateInputSchema.extend({
  templateId: templateIdSchema.optional(),
});

export type TemplateInput = z.output<typeof templateInputSchema>;

/** An If-Match version that is not the current one. */
export class TemplateVersionConflict extends PreconditionFailedError {
  constructor(templateId: string, currentVersion: number) {
    super(
      `Template ${templateId} is at version ${currentVersion}, not the version given in If-Match.`,
      currentVersion,
    );
  }
}

export interface TemplateService {
  create(serviceId: string, input: z.output<typeof createTemplateSchema>): Promise<Template>;
  list(serviceId: string): Promise<Template[]>;
  get(serviceId: string, templateId: string): Promise<Template>;
  /** Replaces the template and bumps its version; `attachments` omitted keeps the current ones. */
  replace(
    serviceId: string,
    templateId: string,
    input: TemplateInput,
    options?: { ifMatchVersion?: number },
  ): Promise<Template>;
  remove(
    serviceId: string,
    templateId: string,
    options?: { ifMatchVersion?: number },
  ): Promise<void>;
  /** The rendered message and the template's sender fields. */
  preview(
    serviceId: string,
    templateId: string,
    input: RenderInput,
  ): Promise<Rendered & SenderFields>;
}

export interface TemplateDependencies {
  table: () => Promise<TableClient>;
  attachments: AttachmentBlobs;
  /** The largest message: a preview renders no more than a send could carry. */
  maxMessageBytes: number;
}

type Entity = Record<string, unknown> & { etag?: string };

function fromEntity(entity: Entity): Template {
  return {
    templateId: String(entity.rowKey),
    name: joinText('name', entity),
    subject: joinText('subject', entity),
    body: joinText('body', entity),
    contentType: entity.contentType === 'html' ? 'html' : 'text',
    attachments: parseAttachmentRefs(entity.attachments),
    ...parseSender(entity.sender),
    version: Number(entity.version),
    createdAt: String(entity.createdAt),
    updatedAt: String(entity.updatedAt),
  };
}

const storedSender = z.object({
  from: z.object({ address: z.string().optional(), name: z.string().optional() }).nullable(),
  replyTo: z.array(z.object({ address: z.string(), name: z.string().optional() })),
});

/** A template stored before sender fields existed has none. */
function parseSender(value: unknown): Pick<Template, 'from' | 'replyTo'> {
  if (typeof value !== 'string') return { from: null, replyTo: [] };
  return storedSender.parse(JSON.parse(value)) as Pick<Template, 'from' | 'replyTo'>;
}

function toEntity(serviceId: string, template: Template) {
  return {
    partitionKey: serviceId,
    rowKey: template.templateId,
    ...splitText('name', template.name),
    ...splitText('subject', template.subject),
    contentType: template.contentType,
    attachments: JSON.stringify(template.attachments),
    sender: JSON.stringify({ from: template.from, replyTo: template.replyTo }),
    version: template.version,
    createdAt: template.createdAt,
    updatedAt: template.updatedAt,
    ...splitText('body', template.body),
  };
}

export function createTemplateService(deps: TemplateDependencies): TemplateService {
  async function read(serviceId: string, templateId: string): Promise<Entity> {
    const table = await deps.table();
    try {
      return await table.getEntity<Entity>(serviceId, templateId);
    } catch (error) {
      if (storageErrorCode(error) === 'ResourceNotFound') throw new NotFoundError('The template');
      throw storageUnavailable('reading a template', error);
    }
  }

  async function storeAttachments(serviceId: string, input: TemplateInput) {
    if (!input.attachments) return undefined;
    const decoded = decodeAttachments(input.attachments, {
      maxCount: MAX_TEMPLATE_ATTACHMENTS,
      maxTotalBytes: MAX_TEMPLATE_ATTACHMENT_BYTES,
    });
    return Promise.all(decoded.map((a) => deps.attachments.put(serviceId, a)));
  }

  function checkVersion(templateId: string, current: number, expected: number | undefined) {
    if (expected !== undefined && expected !== current) {
      throw new TemplateVersionConflict(templateId, current);
    }
  }

  return {
    async create(serviceId, input) {
      checkTemplate(input);
      const now = new Date().toISOString();
      const template: Template = {
        templateId: input.templateId ?? randomUUID(),
        name: input.name,
        subject: input.subject,
        body: input.body,
        contentType: input.contentType,
        attachments: (await storeAttachments(serviceId, input)) ?? [],
        from: input.from ?? null,
        replyTo: input.replyTo ?? [],
        version: 1,
        createdAt: now,
        updatedAt: now,
      };
      const table = await deps.table();
      try {
        await table.createEntity(toEntity(serviceId, template));
      } catch (error) {
        if (storageErrorCode(error) === 'EntityAlreadyExists') {
          throw new ConflictError('conflict', `Template ${template.templateId} already exists.`);
        }
        throw storageUnavailable('storing a template', error);
      }
      return template;
    },

    async list(serviceId) {
      const table = await deps.table();
      const templates: Template[] = [];
      try {
        const pages = table.listEntities<Entity>({
          queryOptions: { filter: `PartitionKey eq '${serviceId.replace(/'/g, "''")}'` },
        });
        for await (const entity of pages) templates.push(fromEntity(entity));
      } catch (error) {
        throw storageUnavailable('listing templates', error);
      }
      return templates;
    },

    async get(serviceId, templateId) {
      return fromEntity(await read(serviceId, templateId));
    },

    async replace(serviceId, templateId, input, options = {}) {
      checkTemplate(input);
      const attachments = await storeAttachments(serviceId, input);
      const entity = await read(serviceId, templateId);
      const current = fromEntity(entity);
      checkVersion(templateId, current.version, options.ifMatchVersion);
      const next: Template = {
        ...current,
        name: input.name,
        subject: input.subject,
        body: input.body,
        contentType: input.contentType,
        attachments: attachments ?? current.attachments,
        from: input.from ?? null,
        replyTo: input.replyTo ?? [],
        version: current.version + 1,
        updatedAt: new Date().toISOString(),
      };
      const table = await deps.table();
      try {
        // Replace (not Merge) drops body chunks a shorter body no longer uses; the ETag makes a
        // concurrent writer lose instead of silently overwriting.
        await table.updateEntity(toEntity(serviceId, next), 'Replace', { etag: entity.etag! });
      } catch (error) {
        if (storageErrorCode(error) === 'UpdateConditionNotSatisfied') {
          const now = fromEntity(await read(serviceId, templateId));
          throw new TemplateVersionConflict(templateId, now.version);
        }
        throw storageUnavailable('updating a template', error);
      }
      return next;
    },

    async remove(serviceId, templateId, options = {}) {
      const entity = await read(serviceId, templateId);
      checkVersion(templateId, Number(entity.version), options.ifMatchVersion);
      const table = await deps.table();
      try {
        await table.deleteEntity(serviceId, templateId, { etag: entity.etag! });
      } catch (error) {
        const code = storageErrorCode(error);
        if (code === 'ResourceNotFound') throw new NotFoundError('The template');
        if (code === 'UpdateConditionNotSatisfied') {
          throw new TemplateVersionConflict(templateId, Number(entity.version) + 1);
        }
        throw storageUnavailable('deleting a template', error);
      }
    },

    async preview(serviceId, templateId, input) {
      const template = await this.get(serviceId, templateId);
      const attachments = template.attachments.map((a) => a.size);
      const attachmentBytes = attachments.reduce((sum, n) => sum + n, 0);
      const rendered = renderTemplate(compileTemplate(template), input, {
        maxBytes: Math.max(0, deps.maxMessageBytes - attachmentBytes),
      });
      // The same rule as a send: the encoded message Exchange would count, not the raw text.
      const size = messageSize({ ...rendered, recipients: 1, attachments });
      if (size.encodedBytes > deps.maxMessageBytes) {
        throw new PayloadTooLargeError(
          describeOverLimit(size, deps.maxMessageBytes),
          deps.maxMessageBytes,
          'body',
          size,
        );
      }
      return { ...rendered, from: template.from ?? undefined, replyTo: template.replyTo };
    },
  };
}

/** `If-Match: "3"` (or `3`, or a weak `W/"3"`) → 3; `*` or absent → undefined. */
export function parseIfMatchVersion(header: string | null): number | undefined {
  if (header === null || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new ValidationError({
      path: 'If-Match',
      message: 'must be the template version in quotes, e.g. "3"',
    });
  }
  return Number(match[1]);
}
