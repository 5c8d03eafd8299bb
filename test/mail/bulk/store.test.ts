import { beforeAll, describe, expect, it } from 'vitest';

import { NotFoundError } from '../../../src/core/errors';
import { type BulkStore, type NewJob } from '../../../src/mail/bulk/store';
import { testBulkStore } from '../../support/bulk-harness';

/** Job records and recipient rows in their Azure Tables (Azurite): what is written reads back. */

let store: BulkStore;
let n = 0;
beforeAll(async () => {
  store = await testBulkStore();
});

const job = (patch: Partial<NewJob> = {}): NewJob => ({
  serviceId: 'svc',
  jobId: `job${n++}`,
  credentialId: 'c1',
  mailbox: 'me@contoso.test',
  total: 3,
  totalRecipients: 4,
  scheduledAt: 0,
  createdAt: '2026-12-06T09:00:00.000Z',
  templateId: 't1',
  templateVersion: 2,
  ...patch,
});
const snapshot = {
  subject: 'Grüße {{name}} ✓',
  body: 'Ünïcödé '.repeat(20_000),
  contentType: 'html' as const,
  attachments: [
    { name: 'a.pdf', contentType: 'application/pdf', size: 3, sha256: 'ab'.repeat(32) },
  ],
  sender: { from: { address: 'sales@contoso.test', name: 'Sales' }, replyTo: [], signature: true },
};
const recipients = [
  {
    to: 'a@example.test',
    cc: ['b@example.test'],
    variables: { name: 'Zoë' },
    personalNote: 'Hi ✓',
  },
  {
    to: 'c@example.test',
    cc: [],
    variables: {},
    personalNote: undefined,
    from: { address: 'x@contoso.test' },
  },
  { to: 'd@example.test', cc: [], variables: {}, personalNote: undefined },
];

describe('bulk store', () => {
  it('a job reads back: the header alone on the hot path, the snapshot whole', async () => {
    const j = job();
    await store.createJob(j, snapshot, recipients);
    const header = await store.header('svc', j.jobId);
    expect(header).toMatchObject({
      ...j,
      status: 'queued',
      dispatched: 0,
      startedAt: undefined,
      reason: undefined,
    });
    expect(header).not.toHaveProperty('body0');
    expect(await store.snapshot('svc', j.jobId)).toEqual(snapshot);
    await expect(store.header('other', j.jobId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('header updates are ETag-conditional; a removed job is gone', async () => {
    const j = job();
    await store.createJob(j, snapshot, recipients);
    const header = await store.header('svc', j.jobId);
    expect(await store.updateHeader(header, { status: 'running', dispatched: 2 })).toBe(true);
    expect(await store.updateHeader(header, { status: 'cancelled' })).toBe(false);
    expect(await store.header('svc', j.jobId)).toMatchObject({ status: 'running', dispatched: 2 });
    await store.deleteJob('svc', j.jobId);
    await expect(store.header('svc', j.jobId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('rows read back with their personal data, in order, by state, without the counter shards', async () => {
    const j = job();
    await store.createJob(j, snapshot, recipients);
    const first = await store.recipient(j.jobId, 0);
    expect(first).toMatchObject({
      index: 0,
      to: 'a@example.test',
      cc: ['b@example.test'],
      variables: { name: 'Zoë' },
      personalNote: 'Hi ✓',
      recipientCount: 2,
      state: 'queued',
      sendId: undefined,
      idsResolved: true,
    });
    expect((await store.recipient(j.jobId, 1)).from).toEqual({ address: 'x@contoso.test' });
    await expect(store.recipient(j.jobId, 3)).rejects.toBeInstanceOf(NotFoundError);

    const claimed = await store.updateRecipient(first, { state: 'sending', attempts: 1 });
    expect(claimed).toMatchObject({ state: 'sending', attempts: 1 });
    expect(await store.updateRecipient(first, { state: 'queued' })).toBeUndefined();

    expect((await store.page(j.jobId, 0, 10)).map((r) => r.index)).toEqual([0, 1, 2]);
    expect((await store.page(j.jobId, 1, 1)).map((r) => r.index)).toEqual([1]);
    expect((await store.page(j.jobId, 0, 10, 'sending')).map((r) => r.index)).toEqual([0]);
  });

  it('a sent row keeps its send, and the ids found later', async () => {
    const j = job();
    await store.createJob(j, snapshot, recipients);
    const sending = (await store.updateRecipient(await store.recipient(j.jobId, 0), {
      state: 'sending',
    }))!;
    const sentAt = Date.parse('2026-12-06T09:00:01.000Z');
    const sent = {
      sendId: 's1',
      sentAt,
      messageId: null,
      internetMessageId: null,
      resolved: false,
    };
    expect(await store.finish(j.jobId, [sending], ['sending'], 'sent', { sent })).toBe(1);
    const row = await store.recipient(j.jobId, 0);
    expect(row).toMatchObject({
      state: 'sent',
      sendId: 's1',
      sentAt,
      messageId: undefined,
      idsResolved: false,
    });
    await store.recordIds(row, { messageId: 'm1', internetMessageId: '<i@x>', resolved: true });
    expect(await store.recipient(j.jobId, 0)).toMatchObject({
      state: 'sent',
      messageId: 'm1',
      internetMessageId: '<i@x>',
      idsResolved: true,
    });
    expect(await store.counts(j.jobId)).toEqual({ sent: 1, failed: 0, skipped: 0 });
  });

  /** A job whose first row was sent with no ids known yet: that row as stored. */
  async function sentRowAwaitingIds() {
    const j = job();
    await store.createJob(j, snapshot, recipients);
    const sending = (await store.updateRecipient(await store.recipient(j.jobId, 0), {
      state: 'sending',
    }))!;
    const sent = { sendId: 's1', sentAt: 1, messageId: null, internetMessageId: null };
    await store.finish(j.jobId, [sending], ['sending'], 'sent', {
      sent: { ...sent, resolved: false },
    });
    return store.recipient(j.jobId, 0);
  }

  it("two reads recording a row's ids at once: ids one made final stay final", async () => {
    const row = await sentRowAwaitingIds();
    // Read A and read B both read the row; B records final ids; then A records what it found
    // (the message, its internet id not given).
    await store.recordIds(row, { messageId: 'm1', internetMessageId: '<i@x>', resolved: true });
    await store.recordIds(row, { messageId: 'm1', internetMessageId: null, resolved: false });
    expect(await store.recipient(row.jobId, 0)).toMatchObject({
      messageId: 'm1',
      internetMessageId: '<i@x>',
      idsResolved: true,
    });
  });

  it("a read recording ids over another read's ids not yet final writes its own", async () => {
    const row = await sentRowAwaitingIds();
    await store.recordIds(row, { messageId: 'm1', internetMessageId: null, resolved: false });
    await store.recordIds(row, { messageId: 'm1', internetMessageId: '<i@x>', resolved: true });
    expect(await store.recipient(row.jobId, 0)).toMatchObject({
      messageId: 'm1',
      internetMessageId: '<i@x>',
      idsResolved: true,
    });
  });
});
