import { randomUUID } from 'node:crypto';

import * as z from 'zod';

import {
  type FieldError,
  InvalidCursorError,
  isErrorOf,
  NotFoundError,
  ValidationError,
} from '../../core/errors';
import { type Logger } from '../../core/logger';
import { emailAddress, toFieldErrors } from '../../core/validators';
import { type CredentialKey } from '../../credentials/types';
import { identityKind, type IdentityService } from '../identity/identities';
import { describeOverLimit, isAscii, measuredMessageSize } from '../message-size';
import { fromField, mergeSender, replyToList, type SenderFields } from '../recipients';
import { type Recipient, type SendService } from '../send-types';
import {
  type CompiledTemplate,
  compileTemplate,
  measureTemplate,
  type RenderBudget,
  type TemplateParts,
} from '../template-render';
import { variablesSchema } from '../template-variables';
import {
  type AttachmentBlobs,
  attachmentInputSchema,
  decodeAttachments,
} from '../template-storage';
import { templateIdSchema, templatePartsSchema, type TemplateService } from '../templates';
import { type Pacer } from './pacing';
import { type BulkQueue } from './queue';
import {
  type BulkStore,
  type Counts,
  type JobHeader,
  type JobSender,
  type NewRecipient,
  type RecipientRow,
} from './store';
import { type SentIdResolver } from './sent-ids';

export const MAX_RECIPIENTS = 10_000;
export const MAX_RECIPIENTS_PER_MESSAGE = 500;
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600_000;
export const MAX_BULK_ATTACHMENTS = 10;
const MAX_PERSONAL_NOTE = 2000;
/** Each recipient's variables fit one Table string property (32 Ki UTF-16 units). */
const MAX_VARIABLES_JSON = 16_000;
/**
 * What checking every recipient of one job may cost together (node visits, substituted bytes):
 * a few hundred milliseconds, far above 10,000 recipients of an ordinary template.
 */
export const JOB_RENDER_BUDGET: Readonly<RenderBudget> = {
  steps: 4_000_000,
  valueBytes: 256 << 20,
};
/** Problems listed for one request; a list with more is answered with these first (documented). */
export const MAX_REPORTED_ERRORS = 500;

export interface BulkSettings {
  ratePerMinute: number;
  dailyRecipientLimit: number;
  dailyWindowMs: number;
  /** Largest message, body and attachments together (the tenant's MaxSendSize). */
  maxMessageBytes: number;
  /** How far ahead the dispatcher reserves send slots. */
  horizonMs: number;
  /** Recipients a dispatch looks at in one go. */
  dispatchBatch: number;
  /** How long a worker owns a recipient it is sending; a crashed worker's claim expires after it. */
  sendLeaseMs: number;
  /** Transient failures (throttling, 5xx) tolerated per recipient before it is failed. */
  maxAttempts: number;
  /** Request bytes per mailbox per rolling `uploadWindowMs` (Graph: 150 MB per 5 minutes). */
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
}

export const DEFAULT_BULK_SETTINGS: Omit<
  BulkSettings,
  'ratePerMinute' | 'dailyRecipientLimit' | 'maxMessageBytes'
> = {
  dailyWindowMs: 24 * 3600_000,
  horizonMs: 30_000,
  dispatchBatch: 100,
  sendLeaseMs: 5 * 60_000,
  maxAttempts: 8,
  // Decimal megabytes: the smaller reading of Graph's "150 MB".
  uploadBytesPerWindow: 150_000_000,
  uploadWindowMs: 5 * 60_000,
};

export interface BulkDependencies {
  store: BulkStore;
  queue: BulkQueue;
  pacer: Pacer;
  templates: TemplateService;
  attachments: AttachmentBlobs;
  send: () => SendService;
  /**
   * The mailbox a credential sends from (the pacing key). Throws NotFoundError for an unknown
   * credential and ReauthRequiredError for a dead one, so a job is never accepted for either.
   */
  senderMailbox(key: CredentialKey, options: { abortSignal?: AbortSignal }): Promise<string>;
  settings: BulkSettings;
  /** Who a credential may send as: a job's `from` is checked when the job is accepted. */
  identities?: IdentityService;
  /** Finds sent rows' message ids when results are read (absent: only what the sends answered). */
  sentIds?: SentIdResolver;
  now?: () => number;
}

const recipientSchema = z.strictObject({
  to: emailAddress(),
  cc: z.array(emailAddress()).default([]),
  variables: variablesSchema.default({}),
  personalNote: z.string().max(MAX_PERSONAL_NOTE).optional(),
  /** This message's own sender fields, over the job's and the template's. */
  from: fromField.optional(),
  replyTo: replyToList.optional(),
});

/** A recipient row as a bulk job takes it (a template preview checks a row the same way). */
export { recipientSchema as bulkRecipientSchema };

const jobFields = {
  templateId: templateIdSchema.optional(),
  template: templatePartsSchema.optional(),
  attachments: z.array(attachmentInputSchema).optional(),
  scheduledAt: z.iso.datetime({ offset: true, error: 'must be an ISO date-time' }).optional(),
  /** Send every message as this address (primary, alias or configured shared mailbox). */
  from: fromField.optional(),
  replyTo: replyToList,
  /** Sign every message (default: the signature's own `default`). */
  signature: z.boolean().optional(),
};

function eitherTemplate(
  value: { templateId?: string | undefined; template?: unknown },
  ctx: z.RefinementCtx,
) {
  if ((value.templateId === undefined) === (value.template === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['templateId'],
      message: 'give either templateId or template',
    });
  }
}

export const bulkRequestSchema = z
  .strictObject({
    ...jobFields,
    recipients: z.array(recipientSchema).min(1, 'needs at least one recipient'),
  })
  .superRefine(eitherTemplate);

/** The job without its rows, which are checked one by one so every row's problems are found. */
const bulkEnvelopeSchema = z
  .strictObject({
    ...jobFields,
    recipients: z.array(z.unknown()).min(1, 'needs at least one recipient'),
  })
  .superRefine(eitherTemplate);

/** A bulk request as a caller writes it (defaults may be left out). */
export type BulkRequest = z.input<typeof bulkRequestSchema>;
type JobRequest = z.output<typeof bulkEnvelopeSchema>;
type Row = z.output<typeof recipientSchema>;

/**
 * One row's problems with its shape, and what of it can still be checked against the template
 * (its variables and note), so a row with a bad address is also checked for missing fields.
 */
function readRow(
  raw: unknown,
  index: number,
): { row: Row | undefined; partial: Row | undefined; errors: FieldError[] } {
  const parsed = recipientSchema.safeParse(raw);
  if (parsed.success) return { row: parsed.data, partial: parsed.data, errors: [] };
  const errors = toFieldErrors(parsed.error.issues, `recipients[${index}]`);
  const merge = rowMergeFields(raw);
  const partial = merge && { to: '', cc: [], ...merge };
  return { row: undefined, partial, errors };
}

/**
 * What of a row that failed its schema can still be checked against the template: its variables
 * and note, when those two are well formed (a template preview names the same problems).
 */
export function rowMergeFields(raw: unknown): Pick<Row, 'variables' | 'personalNote'> | undefined {
  const fields = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const variables = variablesSchema.default({}).safeParse(fields.variables);
  const note = recipientSchema.shape.personalNote.safeParse(fields.personalNote);
  return variables.success && note.success
    ? { variables: variables.data, personalNote: note.data }
    : undefined;
}

export interface JobView {
  jobId: string;
  credentialId: string;
  status: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
  /** Set while the job waits for the credential to be connected again. */
  paused: { reason: string } | null;
  /** Why the job failed as a whole. */
  reason: string | null;
  total: number;
  counts: Counts & { queued: number };
  percent: number;
  eta: string | null;
  scheduledAt: string | null;
  createdAt: string;
  startedAt: string | null;
  templateId: string | null;
  templateVersion: number | null;
  results: ResultRow[];
  nextCursor: string | null;
}

/** One recipient's result; a sent one carries its send and what is known of its message ids. */
export interface ResultRow {
  index: number;
  to: string;
  status: string;
  sendId?: string;
  sentAt?: string;
  messageId?: string | null;
  internetMessageId?: string | null;
  /** False while the ids are still awaited from the Sent Items copy (read again later). */
  resolved?: boolean;
  error?: string;
}

function resultRow(row: RecipientRow): ResultRow {
  const sent = row.state === 'sent';
  return {
    index: row.index,
    to: row.to,
    status: row.state,
    ...(sent && row.sendId !== undefined ? { sendId: row.sendId } : {}),
    ...(sent && row.sentAt !== undefined ? { sentAt: new Date(row.sentAt).toISOString() } : {}),
    ...(sent
      ? {
          messageId: row.messageId ?? null,
          internetMessageId: row.internetMessageId ?? null,
          resolved: row.idsResolved,
        }
      : {}),
    ...(row.error ? { error: row.error } : {}),
  };
}

function encodeCursor(jobId: string, index: number): string {
  return Buffer.from(JSON.stringify({ j: jobId, i: index })).toString('base64url');
}

function decodeCursor(jobId: string, cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      j?: unknown;
      i?: unknown;
    };
    if (value.j === jobId && Number.isInteger(value.i) && (value.i as number) >= 0)
      return value.i as number;
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursorError('The cursor was not issued for this bulk send or has been altered.');
}

export interface ReadOptions {
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export interface BulkJobs {
  /** Checks the whole request (raw JSON or a typed BulkRequest) in one pass, then stores it. */
  create(
    key: CredentialKey,
    request: unknown,
    options: { abortSignal?: AbortSignal; log: Logger },
  ): Promise<{ jobId: string }>;
  /**
   * The job and one page of results. With `options` (the route passes them) the ids of up to
   * MAX_ID_LOOKUPS_PER_READ sent rows of the page are looked up (`sent-ids.ts`); without, the
   * read touches storage only.
   */
  status(
    key: CredentialKey,
    jobId: string,
    page: { cursor?: string; top: number },
    options?: ReadOptions,
  ): Promise<JobView>;
  cancel(key: CredentialKey, jobId: string): Promise<JobView>;
  /** Continues a job paused for reauthentication, once the credential is connected again. */
  resume(key: CredentialKey, jobId: string): Promise<JobView>;
}

export function createBulkJobs(deps: BulkDependencies): BulkJobs {
  const now = deps.now ?? Date.now;
  const { settings } = deps;

  async function resolveTemplate(
    serviceId: string,
    request: Pick<JobRequest, 'template' | 'templateId'>,
  ) {
    if (request.template) {
      return {
        parts: request.template,
        attachments: [],
        id: undefined,
        version: undefined,
        sender: undefined,
      };
    }
    try {
      const template = await deps.templates.get(serviceId, request.templateId!);
      return {
        parts: template,
        attachments: template.attachments,
        id: template.templateId,
        version: template.version,
        sender: { from: template.from ?? undefined, replyTo: template.replyTo },
      };
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) {
        throw new ValidationError({
          path: 'templateId',
          message: 'is not a template of this service',
        });
      }
      throw error;
    }
  }

  /**
   * Who the job's messages go out as: its own `from` and `replyTo` over the template's (a name
   * alone goes out from the primary address), and every address used — the job's, the
   * template's and each row's own — one the credential may send as. Problems name the field
   * they came from; identities are read once.
   */
  async function jobSender(
    key: CredentialKey,
    request: Pick<JobRequest, 'from' | 'replyTo'>,
    template: SenderFields | undefined,
    rows: ReadonlyArray<Pick<Row, 'from'> | undefined>,
    options: { abortSignal?: AbortSignal; log: Logger },
  ): Promise<{ sender: Pick<JobSender, 'from' | 'replyTo'>; errors: FieldError[] }> {
    const merged = mergeSender([request, template]);
    const rowFroms = rows.flatMap((row, index) => (row?.from ? [{ index, from: row.from }] : []));
    if (!deps.identities || (merged.from === undefined && rowFroms.length === 0)) {
      const from = merged.from?.address === undefined ? undefined : (merged.from as Recipient);
      return { sender: { ...(from ? { from } : {}), replyTo: merged.replyTo }, errors: [] };
    }
    const known = await deps.identities.get(key, options);
    const errors: FieldError[] = [];
    const refuse = (path: string, address: string, whose = '') =>
      errors.push({
        path,
        message: `${whose}${address} is not an address this credential may send as (GET credentials/${key.credentialId}/identities lists them)`,
      });
    const address = merged.from?.address ?? known.primary.address;
    if (identityKind(known, address) === undefined) {
      if (request.from) refuse('from', address);
      else refuse('templateId', address, "the template's from: ");
    }
    for (const { index, from } of rowFroms) {
      if (identityKind(known, from.address) === undefined) {
        refuse(`recipients[${index}].from`, from.address);
      }
    }
    const from = merged.from && ({ ...merged.from, address } as Recipient);
    return { sender: { ...(from ? { from } : {}), replyTo: merged.replyTo }, errors };
  }

  /** Compiles the job's template; problems name `template.*` or the stored template's id. */
  function compileFor(
    request: Pick<JobRequest, 'template'>,
    parts: TemplateParts,
  ): CompiledTemplate {
    try {
      return compileTemplate(parts);
    } catch (error) {
      if (!isErrorOf(error, ValidationError)) throw error;
      throw new ValidationError(
        error.errors.map((e) =>
          request.template
            ? { path: `template.${e.path}`, message: e.message }
            : { path: 'templateId', message: `${e.path}: ${e.message}` },
        ),
      );
    }
  }

  /**
   * Every problem of every row (up to MAX_REPORTED_ERRORS), so a caller fixes the list in one
   * round. Rows are measured, not rendered, under one budget for the whole job.
   */
  function checkRecipients(
    request: Pick<JobRequest, 'template'> & { recipients: ReadonlyArray<Row | undefined> },
    template: CompiledTemplate,
    attachmentSizes: readonly number[],
    templateAscii: boolean,
  ): FieldError[] {
    const errors: FieldError[] = [];
    if (request.recipients.length > MAX_RECIPIENTS) {
      errors.push({
        path: 'recipients',
        message: `at most ${MAX_RECIPIENTS} recipients per bulk send`,
      });
    }
    const seen = new Map<string, number>();
    const perMessage = Math.min(MAX_RECIPIENTS_PER_MESSAGE, settings.dailyRecipientLimit);
    const budget: RenderBudget = { ...JOB_RENDER_BUDGET };
    const limitPath = request.template
      ? (field: string) => `template.${field}`
      : () => 'templateId';
    for (const [index, recipient] of request.recipients.entries()) {
      if (errors.length >= MAX_REPORTED_ERRORS || budget.steps < 0 || budget.valueBytes < 0) break;
      if (!recipient) continue;
      const path = `recipients[${index}]`;
      const address = recipient.to.toLowerCase();
      const first = address === '' ? undefined : seen.get(address);
      if (first !== undefined)
        errors.push({ path: `${path}.to`, message: `duplicates recipients[${first}].to` });
      else if (address !== '') seen.set(address, index);
      if (1 + recipient.cc.length > perMessage) {
        errors.push({
          path: `${path}.cc`,
          message: `a message may have at most ${perMessage} recipients`,
        });
      }
      const variablesJson = JSON.stringify(recipient.variables);
      if (variablesJson.length > MAX_VARIABLES_JSON) {
        errors.push({
          path: `${path}.variables`,
          message: `at most ${MAX_VARIABLES_JSON} characters as JSON`,
        });
        continue;
      }
      try {
        const textBytes = measureTemplate(template, recipient, {
          maxBytes: settings.maxMessageBytes,
          pathPrefix: `${path}.`,
          limitPath,
          budget,
        });
        // Rendering only joins the template's text and the row's values, so both tell the encoding.
        const size = measuredMessageSize({
          textBytes,
          ascii: templateAscii && isAscii(variablesJson),
          recipients: 1 + recipient.cc.length,
          attachments: attachmentSizes,
        });
        if (size.encodedBytes > settings.maxMessageBytes) {
          errors.push({ path, message: describeOverLimit(size, settings.maxMessageBytes) });
        }
      } catch (error) {
        if (isErrorOf(error, ValidationError)) errors.push(...error.errors);
        else throw error;
      }
    }
    return errors.slice(0, MAX_REPORTED_ERRORS);
  }

  function checkSchedule(scheduledAt: string | undefined): number {
    if (scheduledAt === undefined) return 0;
    const at = Date.parse(scheduledAt);
    if (at < now() - 60_000)
      throw new ValidationError({ path: 'scheduledAt', message: 'is in the past' });
    if (at > now() + MAX_SCHEDULE_AHEAD_MS) {
      throw new ValidationError({ path: 'scheduledAt', message: 'is more than 30 days ahead' });
    }
    return at;
  }

  async function ownedHeader(key: CredentialKey, jobId: string): Promise<JobHeader> {
    const header = await deps.store.header(key.serviceId, jobId);
    if (header.credentialId !== key.credentialId) throw new NotFoundError('The bulk send');
    return header;
  }

  async function view(
    header: JobHeader,
    page: { cursor?: string; top: number },
    options?: ReadOptions,
  ): Promise<JobView> {
    const counts = await deps.store.counts(header.jobId);
    const done = counts.sent + counts.failed + counts.skipped;
    const queued = header.total - done;
    let status: JobView['status'];
    if (header.status === 'cancelled' || header.status === 'failed') status = header.status;
    else if (queued === 0) status = counts.sent === 0 && counts.failed > 0 ? 'failed' : 'completed';
    else status = header.status === 'running' ? 'running' : 'queued';
    const from = page.cursor ? decodeCursor(header.jobId, page.cursor) : 0;
    const rows = await deps.store.page(header.jobId, from, page.top + 1);
    const more = rows.length > page.top;
    let shown = rows.slice(0, page.top);
    if (options && deps.sentIds) {
      const key = { serviceId: header.serviceId, credentialId: header.credentialId };
      shown = await deps.sentIds(key, shown, options);
    }
    let eta: string | null = null;
    if ((status === 'queued' || status === 'running') && header.status !== 'paused') {
      const intervalMs = 60_000 / settings.ratePerMinute;
      const remainingRecipients = Math.ceil((queued * header.totalRecipients) / header.total);
      const days = Math.floor(Math.max(0, remainingRecipients - 1) / settings.dailyRecipientLimit);
      eta = new Date(
        Math.max(now(), header.scheduledAt) + queued * intervalMs + days * settings.dailyWindowMs,
      ).toISOString();
    }
    return {
      jobId: header.jobId,
      credentialId: header.credentialId,
      status,
      paused: header.status === 'paused' ? { reason: header.reason ?? 'paused' } : null,
      reason: header.status === 'failed' ? (header.reason ?? null) : null,
      total: header.total,
      counts: { queued, ...counts },
      percent: header.total === 0 ? 100 : Math.round((1000 * done) / header.total) / 10,
      eta,
      scheduledAt: header.scheduledAt ? new Date(header.scheduledAt).toISOString() : null,
      createdAt: header.createdAt,
      startedAt: header.startedAt ?? null,
      templateId: header.templateId ?? null,
      templateVersion: header.templateVersion ?? null,
      results: shown.map(resultRow),
      nextCursor: more ? encodeCursor(header.jobId, rows[page.top]!.index) : null,
    };
  }

  /** Applies a status change under the header's ETag, re-reading on a concurrent change. */
  async function changeStatus(
    key: CredentialKey,
    jobId: string,
    decide: (header: JobHeader) => Partial<Omit<JobHeader, 'etag'>> | undefined,
  ): Promise<{ header: JobHeader; changed: boolean }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const header = await ownedHeader(key, jobId);
      const patch = decide(header);
      if (!patch) return { header, changed: false };
      if (await deps.store.updateHeader(header, patch)) {
        return { header: await ownedHeader(key, jobId), changed: true };
      }
    }
    throw new ValidationError({
      path: 'jobId',
      message: 'the job is changing too fast; try again',
    });
  }

  return {
    async create(key, body, options) {
      // One pass over everything: the job's fields, every row's shape, addresses, merge fields
      // and size, so a caller fixes the whole list in one round (at most MAX_REPORTED_ERRORS).
      const errors: FieldError[] = [];
      const collect = async <T>(check: () => T | Promise<T>): Promise<T | undefined> => {
        try {
          return await check();
        } catch (error) {
          if (!isErrorOf(error, ValidationError)) throw error;
          errors.push(...error.errors);
          return undefined;
        }
      };
      const envelope = bulkEnvelopeSchema.safeParse(body);
      if (!envelope.success) errors.push(...toFieldErrors(envelope.error.issues));
      const raws = envelope.success
        ? envelope.data.recipients
        : Array.isArray((body as { recipients?: unknown } | null)?.recipients)
          ? (body as { recipients: unknown[] }).recipients
          : [];
      const rows = raws.map(readRow);
      for (const row of rows) errors.push(...row.errors);
      if (!envelope.success) throw new ValidationError(errors.slice(0, MAX_REPORTED_ERRORS));
      const request = envelope.data;
      const template = await collect(() => resolveTemplate(key.serviceId, request));
      const extra =
        (await collect(() =>
          decodeAttachments(request.attachments ?? [], {
            maxCount: MAX_BULK_ATTACHMENTS,
            maxTotalBytes: settings.maxMessageBytes,
          }),
        )) ?? [];
      const scheduledAt = (await collect(() => checkSchedule(request.scheduledAt))) ?? 0;
      const sender = template
        ? await jobSender(
            key,
            request,
            template.sender,
            rows.map((r) => r.row),
            options,
          )
        : undefined;
      errors.push(...(sender?.errors ?? []));
      const compiled = template && (await collect(() => compileFor(request, template.parts)));
      if (template && compiled) {
        const attachmentSizes = [
          ...template.attachments.map((a) => a.size),
          ...extra.map((a) => a.bytes.length),
        ];
        const partial = { template: request.template, recipients: rows.map((r) => r.partial) };
        errors.push(
          ...checkRecipients(
            partial,
            compiled,
            attachmentSizes,
            isAscii(template.parts.subject) && isAscii(template.parts.body),
          ),
        );
      }
      if (errors.length > 0 || !template) {
        throw new ValidationError(errors.slice(0, MAX_REPORTED_ERRORS));
      }
      const valid = rows.map((r) => r.row!);

      const mailbox = await deps.senderMailbox(
        key,
        options.abortSignal ? { abortSignal: options.abortSignal } : {},
      );
      const stored = await Promise.all(extra.map((a) => deps.attachments.put(key.serviceId, a)));
      const jobId = randomUUID();
      const recipients: NewRecipient[] = valid.map((r) => ({
        to: r.to,
        cc: r.cc,
        variables: r.variables,
        personalNote: r.personalNote,
        ...(r.from === undefined ? {} : { from: r.from }),
        ...(r.replyTo === undefined ? {} : { replyTo: r.replyTo }),
      }));
      await deps.store.createJob(
        {
          serviceId: key.serviceId,
          jobId,
          credentialId: key.credentialId,
          mailbox,
          total: recipients.length,
          totalRecipients: recipients.reduce((sum, r) => sum + 1 + r.cc.length, 0),
          scheduledAt,
          createdAt: new Date(now()).toISOString(),
          templateId: template.id,
          templateVersion: template.version,
        },
        {
          subject: template.parts.subject,
          body: template.parts.body,
          contentType: template.parts.contentType,
          attachments: [...template.attachments, ...stored],
          sender: {
            ...sender!.sender,
            ...(request.signature === undefined ? {} : { signature: request.signature }),
          },
        },
        recipients,
      );
      try {
        await deps.queue.enqueue({ v: 1, k: 'dispatch', s: key.serviceId, j: jobId }, scheduledAt);
      } catch (error) {
        // Without its first message the job would never start: take it back and fail the request.
        await deps.store.deleteJob(key.serviceId, jobId).catch(() => undefined);
        throw error;
      }
      options.log.info('bulk send accepted', {
        jobId,
        total: recipients.length,
        scheduled: scheduledAt > 0,
      });
      return { jobId };
    },

    async status(key, jobId, page, options) {
      return view(await ownedHeader(key, jobId), page, options);
    },

    async cancel(key, jobId) {
      const current = await view(await ownedHeader(key, jobId), { top: 0 });
      if (
        current.status === 'completed' ||
        current.status === 'cancelled' ||
        current.status === 'failed'
      ) {
        return view(await ownedHeader(key, jobId), { top: 100 });
      }
      const { header, changed } = await changeStatus(key, jobId, (h) =>
        h.status === 'cancelled' || h.status === 'failed' ? undefined : { status: 'cancelled' },
      );
      // The dispatcher marks every recipient not yet sent as skipped.
      if (changed) await deps.queue.enqueue({ v: 1, k: 'dispatch', s: key.serviceId, j: jobId });
      return view(header, { top: 100 });
    },

    async resume(key, jobId) {
      const { header, changed } = await changeStatus(key, jobId, (h) =>
        h.status === 'paused' ? { status: 'running', reason: '', dispatched: 0 } : undefined,
      );
      if (changed) await deps.queue.enqueue({ v: 1, k: 'dispatch', s: key.serviceId, j: jobId });
      return view(header, { top: 100 });
    },
  };
}
