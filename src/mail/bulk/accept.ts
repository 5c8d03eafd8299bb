import { randomUUID } from 'node:crypto';

import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type BulkDependencies } from './dependencies';
import { type NewRecipient } from './store';
import { type ValidJob } from './validate';

/**
 * Stores a checked job and starts it: the sending mailbox (404 unknown credential, 409
 * reauth_required), the request's attachments once, the rows and then the header (the commit
 * point), then the first `dispatch` message, which the job cannot start without.
 */
export async function acceptJob(
  deps: Pick<BulkDependencies, 'store' | 'queue' | 'attachments' | 'senderMailbox' | 'now'>,
  key: CredentialKey,
  job: ValidJob,
  options: { abortSignal?: AbortSignal; log: Logger },
): Promise<{ jobId: string }> {
  const now = deps.now ?? Date.now;
  const { request, template, scheduledAt } = job;
  const mailbox = await deps.senderMailbox(
    key,
    options.abortSignal ? { abortSignal: options.abortSignal } : {},
  );
  const stored = await Promise.all(job.extra.map((a) => deps.attachments.put(key.serviceId, a)));
  const jobId = randomUUID();
  const recipients: NewRecipient[] = job.rows.map((r) => ({
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
        ...job.sender,
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
}
