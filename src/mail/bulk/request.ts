import * as z from 'zod';

import { type FieldError, ValidationError } from '../../core/errors';
import { emailAddress, toFieldErrors } from '../../core/validators';
import { fromField, replyToList } from '../recipients';
import { variablesSchema } from '../template-variables';
import { attachmentInputSchema } from '../template-storage';
import { templateIdSchema, templatePartsSchema } from '../templates';

/**
 * The first step of accepting a bulk job: the request's shape. The job's fields and each row are
 * parsed apart, so every row's problems are found in one pass (and a row with a bad address is
 * still checked against the template by the next steps).
 */

export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 3600_000;
const MAX_PERSONAL_NOTE = 2000;
/** Problems listed for one request; a list with more is answered with these first (documented). */
export const MAX_REPORTED_ERRORS = 500;

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
export type JobRequest = z.output<typeof bulkEnvelopeSchema>;
export type Row = z.output<typeof recipientSchema>;
/** A row as the job's checks see it: its problems, and what of it can still be checked. */
export interface ReadRow {
  row: Row | undefined;
  partial: Row | undefined;
  errors: FieldError[];
}

/**
 * One row's problems with its shape, and what of it can still be checked against the template
 * (its variables and note), so a row with a bad address is also checked for missing fields.
 */
function readRow(raw: unknown, index: number): ReadRow {
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

/**
 * The job's fields and every row, read apart: the rows' problems are collected even when the
 * job's fields are wrong. `request` is undefined when the job's fields are (then `errors` says why).
 */
export function readBulkRequest(body: unknown): {
  request: JobRequest | undefined;
  rows: ReadRow[];
  errors: FieldError[];
} {
  const errors: FieldError[] = [];
  const envelope = bulkEnvelopeSchema.safeParse(body);
  if (!envelope.success) errors.push(...toFieldErrors(envelope.error.issues));
  const raws = envelope.success
    ? envelope.data.recipients
    : Array.isArray((body as { recipients?: unknown } | null)?.recipients)
      ? (body as { recipients: unknown[] }).recipients
      : [];
  const rows = raws.map(readRow);
  for (const row of rows) errors.push(...row.errors);
  return { request: envelope.success ? envelope.data : undefined, rows, errors };
}

/** When the job starts (epoch ms, 0 for now): not in the past, at most 30 days ahead. */
export function checkSchedule(scheduledAt: string | undefined, now: number): number {
  if (scheduledAt === undefined) return 0;
  const at = Date.parse(scheduledAt);
  if (at < now - 60_000)
    throw new ValidationError({ path: 'scheduledAt', message: 'is in the past' });
  if (at > now + MAX_SCHEDULE_AHEAD_MS) {
    throw new ValidationError({ path: 'scheduledAt', message: 'is more than 30 days ahead' });
  }
  return at;
}
