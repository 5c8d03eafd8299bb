import { describe, expect, it } from 'vitest';

import { UPLOAD_SESSION_MIN_BYTES } from '../../../src/graph/uploads';
import { bulkMessage, createMessageBuilder, uploadBytes } from '../../../src/mail/bulk/message';
import { type JobHeader, type JobSnapshot, type RecipientRow } from '../../../src/mail/bulk/store';
import { type OutgoingMessage } from '../../../src/mail/send-types';
import { type AttachmentRef } from '../../../src/mail/template-storage';
import { recipientRow } from '../../support/bulk-harness';

const ref: AttachmentRef = {
  name: 'terms.pdf',
  contentType: 'application/pdf',
  size: 3,
  sha256: 'abc',
};
const snap: JobSnapshot = {
  subject: 'Hello {{name}}',
  body: 'Dear {{name}}',
  contentType: 'text',
  attachments: [ref],
  sender: {
    from: { address: 'sales@contoso.example' },
    replyTo: [{ address: 'replies@contoso.example' }],
    signature: false,
  },
};
const row = (fields: Partial<RecipientRow> = {}): RecipientRow =>
  recipientRow({
    cc: ['boss@example.test'],
    variables: { name: 'Adele' },
    recipientCount: 2,
    ...fields,
  });
const opened: string[] = [];
const open = (serviceId: string, a: AttachmentRef) => {
  opened.push(`${serviceId}/${a.name}`);
  return { name: a.name, contentType: a.contentType, size: a.size, open: async function* () {} };
};
const options = { maxMessageBytes: 1_000_000, open, serviceId: 'svc' };

describe('bulk message', () => {
  it("renders the snapshot for one row, as the job's sender, with its attachments", () => {
    const { message } = bulkMessage(snap, row(), options);
    expect(message).toMatchObject({
      to: [{ address: 'adele@example.test' }],
      cc: [{ address: 'boss@example.test' }],
      bcc: [],
      subject: 'Hello Adele',
      body: 'Dear Adele',
      contentType: 'text',
      from: { address: 'sales@contoso.example' },
      replyTo: [{ address: 'replies@contoso.example' }],
      signature: false,
      saveToSentItems: true,
      attachments: [{ name: 'terms.pdf', size: 3 }],
    });
    expect(opened).toContain('svc/terms.pdf');
  });

  it('leaves from, Reply-To and signature to the defaults when the job names none', () => {
    const { sender: _, ...plain } = snap;
    const { message } = bulkMessage(plain, row(), options);
    expect(message.replyTo).toEqual([]);
    expect('from' in message).toBe(false);
    expect('signature' in message).toBe(false);
  });

  it('fingerprints what is sent: the same row the same, another row or file another', () => {
    const first = bulkMessage(snap, row(), options).fingerprint;
    expect(bulkMessage(snap, row(), options).fingerprint).toBe(first);
    expect(bulkMessage(snap, row({ variables: { name: 'Bob' } }), options).fingerprint).not.toBe(
      first,
    );
    expect(bulkMessage(snap, row({ cc: [] }), options).fingerprint).not.toBe(first);
    const otherFile = { ...snap, attachments: [{ ...ref, sha256: 'def' }] };
    expect(bulkMessage(otherFile, row(), options).fingerprint).not.toBe(first);
  });

  it('refuses a rendered message over the size limit', () => {
    expect(() => bulkMessage(snap, row(), { ...options, maxMessageBytes: 5 })).toThrow();
  });

  it('loads each snapshot once, and again after a failed load', async () => {
    let loads = 0;
    let fail = true;
    const build = createMessageBuilder({
      store: {
        snapshot: () => {
          loads++;
          if (fail) return Promise.reject(new Error('store down'));
          return Promise.resolve(snap);
        },
      },
      attachments: { open },
      maxMessageBytes: 1_000_000,
    });
    const header = { serviceId: 'svc', jobId: 'job1' } as JobHeader;
    await expect(build(header, row())).rejects.toThrow('store down');
    fail = false;
    await build(header, row());
    await build(header, row({ index: 1, to: 'bob@example.test' }));
    expect(loads).toBe(2);
  });
});

describe('uploadBytes', () => {
  const message = (attachments: OutgoingMessage['attachments']): OutgoingMessage => ({
    ...bulkMessage(snap, row(), options).message,
    attachments,
  });
  const file = (size: number) => ({ ...open('svc', ref), name: 'f', size });

  it('counts small files as base64 and large ones raw, erring high', () => {
    const bare = uploadBytes(message([]));
    expect(bare).toBeGreaterThan(JSON.stringify(message([])).length);
    const small = uploadBytes(message([file(3_000)])) - bare;
    expect(small).toBeGreaterThanOrEqual(4_000);
    const large = UPLOAD_SESSION_MIN_BYTES + 10;
    const big = uploadBytes(message([file(large)])) - bare;
    expect(big).toBeGreaterThanOrEqual(large);
    expect(big).toBeLessThan((large * 4) / 3);
  });
});
