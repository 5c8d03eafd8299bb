import { type FieldError, isErrorOf, ValidationError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { isAscii } from '../message-size';
import { decodeAttachments } from '../template-storage';
import { type BulkDependencies } from './dependencies';
import { jobSender } from './job-sender';
import { compileFor, type JobTemplate, resolveTemplate } from './job-template';
import {
  checkSchedule,
  type JobRequest,
  MAX_REPORTED_ERRORS,
  readBulkRequest,
  type Row,
} from './request';
import { checkRecipients } from './row-checks';
import { type JobSender } from './store';

/**
 * The one pass over a bulk request: the job's fields, every row's shape, addresses, sender,
 * merge fields and size, so a caller fixes the whole list in one round (at most
 * MAX_REPORTED_ERRORS problems, in that order). Nothing is stored or sent before it passes.
 */

export const MAX_BULK_ATTACHMENTS = 10;

/** A request that passed every check: what the job is made of. */
export interface ValidJob {
  request: JobRequest;
  rows: Row[];
  template: JobTemplate;
  /** The request's own attachments, decoded (stored when the job is). */
  extra: Array<{ name: string; contentType: string; bytes: Buffer }>;
  /** Epoch ms, 0 for now. */
  scheduledAt: number;
  sender: Pick<JobSender, 'from' | 'replyTo'>;
}

export async function validateJob(
  deps: Pick<BulkDependencies, 'templates' | 'identities' | 'settings' | 'now'>,
  key: CredentialKey,
  body: unknown,
  options: { abortSignal?: AbortSignal; log: Logger },
): Promise<ValidJob> {
  const now = deps.now ?? Date.now;
  const { settings } = deps;
  const read = readBulkRequest(body);
  const errors: FieldError[] = read.errors;
  const refuse = () => new ValidationError(errors.slice(0, MAX_REPORTED_ERRORS));
  const { request, rows } = read;
  if (!request) throw refuse();
  // Each check adds its problems and the pass goes on.
  const collect = async <T>(check: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await check();
    } catch (error) {
      if (!isErrorOf(error, ValidationError)) throw error;
      errors.push(...error.errors);
      return undefined;
    }
  };
  const template = await collect(() => resolveTemplate(deps.templates, key.serviceId, request));
  const extra =
    (await collect(() =>
      decodeAttachments(request.attachments ?? [], {
        maxCount: MAX_BULK_ATTACHMENTS,
        maxTotalBytes: settings.maxMessageBytes,
      }),
    )) ?? [];
  const scheduledAt = (await collect(() => checkSchedule(request.scheduledAt, now()))) ?? 0;
  const sender = template
    ? await jobSender(
        deps.identities,
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
        settings,
      ),
    );
  }
  if (errors.length > 0 || !template || !sender) throw refuse();
  return {
    request,
    rows: rows.map((r) => r.row!),
    template,
    extra,
    scheduledAt,
    sender: sender.sender,
  };
}
