import { createHash } from 'node:crypto';

import { UPLOAD_SESSION_MIN_BYTES } from '../../graph/uploads';
import { mergeSender } from '../recipients';
import { type OutgoingMessage, type Recipient } from '../send-types';
import { type AttachmentBlobs } from '../template-storage';
import { compileTemplate, renderTemplate } from '../template-render';
import { type BulkStore, type JobHeader, type JobSnapshot, type RecipientRow } from './store';

/** One recipient's message, made from the job's snapshot and the recipient's row. */
export interface BuiltMessage {
  message: OutgoingMessage;
  /** Identifies the rendered message for the idempotency key. */
  fingerprint: string;
}

/** Room for what Graph's JSON adds per request and per recipient beyond our own fields. */
const ENVELOPE_BYTES = 2048;
const PER_RECIPIENT_BYTES = 64;
const PER_ATTACHMENT_BYTES = 1024;
/** Snapshots kept per instance. */
const SNAPSHOT_CACHE_SIZE = 50;

/**
 * What sending `message` uploads to Graph (the bodies of its POST/PUT requests), erring high: the
 * message JSON once (sendMail, or the draft), files under the upload-session size as base64 (in
 * that request or their own), larger files raw through upload sessions. The send path picks the
 * route; every route uploads at most this.
 */
export function uploadBytes(message: OutgoingMessage): number {
  const { attachments, ...fields } = message;
  const recipients = message.to.length + message.cc.length + message.bcc.length;
  return (
    ENVELOPE_BYTES +
    Buffer.byteLength(JSON.stringify(fields)) +
    recipients * PER_RECIPIENT_BYTES +
    attachments.reduce(
      (sum, a) =>
        sum +
        PER_ATTACHMENT_BYTES +
        Buffer.byteLength(a.name) +
        (a.size < UPLOAD_SESSION_MIN_BYTES ? 4 * Math.ceil(a.size / 3) : a.size),
      0,
    )
  );
}

/**
 * Renders the snapshot's template for one row. The send stage checks `from` again and puts the
 * signature in (at {{signature}} or after), as for any send.
 */
export function bulkMessage(
  snap: JobSnapshot,
  row: RecipientRow,
  options: { maxMessageBytes: number; open: AttachmentBlobs['open']; serviceId: string },
): BuiltMessage {
  // Compiled per message, not cached with the snapshot: parsed templates are many times their text.
  const rendered = renderTemplate(compileTemplate(snap), row, {
    maxBytes: options.maxMessageBytes,
  });
  // The row's own sender fields over the job's (which took the template's in already).
  const { from, replyTo } = mergeSender([row, snap.sender]);
  const message: OutgoingMessage = {
    to: [{ address: row.to }],
    cc: row.cc.map((address) => ({ address })),
    bcc: [],
    replyTo,
    subject: rendered.subject,
    body: rendered.body,
    contentType: rendered.contentType,
    importance: 'normal',
    saveToSentItems: true,
    headers: {},
    attachments: snap.attachments.map((ref) => options.open(options.serviceId, ref)),
    ...(from?.address === undefined ? {} : { from: from as Recipient }),
    ...(snap.sender?.signature === undefined ? {} : { signature: snap.sender.signature }),
  };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([row.to, row.cc, rendered, snap.attachments.map((a) => a.sha256)]))
    .digest('hex');
  return { message, fingerprint };
}

/**
 * Builds rows' messages, loading each job's snapshot once per instance (snapshots never change
 * once a job exists; a failed load is not kept).
 */
export function createMessageBuilder(options: {
  store: Pick<BulkStore, 'snapshot'>;
  attachments: Pick<AttachmentBlobs, 'open'>;
  maxMessageBytes: number;
}): (header: JobHeader, row: RecipientRow) => Promise<BuiltMessage> {
  const cache = new Map<string, Promise<JobSnapshot>>();
  const snapshot = (serviceId: string, jobId: string) => {
    let hit = cache.get(jobId);
    if (!hit) {
      hit = options.store.snapshot(serviceId, jobId);
      hit.catch(() => cache.delete(jobId));
      cache.set(jobId, hit);
      if (cache.size > SNAPSHOT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    return hit;
  };
  return async (header, row) =>
    bulkMessage(await snapshot(header.serviceId, header.jobId), row, {
      maxMessageBytes: options.maxMessageBytes,
      open: (serviceId, ref) => options.attachments.open(serviceId, ref),
      serviceId: header.serviceId,
    });
}
