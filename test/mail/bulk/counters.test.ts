import { beforeAll, describe, expect, it } from 'vitest';

import { UpstreamError } from '../../../src/core/errors';
import { COUNTER_SHARDS, terminalActions } from '../../../src/mail/bulk/counters';
import { type BulkStore, type RecipientRow } from '../../../src/mail/bulk/store';
import { testBulkStore } from '../../support/bulk-harness';

/** Terminal moves of recipient rows, each counted in its shard in the same transaction. */

const shards = new Map(
  Array.from({ length: COUNTER_SHARDS }, (_, i) => [
    `count-${i}`,
    { etag: `e${i}`, sent: i, failed: 0, skipped: 0 },
  ]),
);
const row = (index: number): RecipientRow =>
  ({ jobId: 'job1', index, state: 'sending', etag: `r${index}` }) as RecipientRow;

describe('terminalActions', () => {
  it('moves each row under its ETag and raises each shard once by its rows', () => {
    const actions = terminalActions('job1', [row(1), row(9), row(2)], 'sent', {}, shards);
    expect(actions.slice(0, 3).map(([, entity, , options]) => [entity, options])).toEqual([
      [
        expect.objectContaining({ rowKey: 'r000001', state: 'sent', leaseUntil: 0 }),
        { etag: 'r1' },
      ],
      [expect.objectContaining({ rowKey: 'r000009', state: 'sent' }), { etag: 'r9' }],
      [expect.objectContaining({ rowKey: 'r000002', state: 'sent' }), { etag: 'r2' }],
    ]);
    // Rows 1 and 9 count in shard 1, row 2 in shard 2: from what the shards held.
    expect(actions.slice(3).map(([, entity, , options]) => [entity, options])).toEqual([
      [{ partitionKey: 'job1', rowKey: 'count-1', sent: 1 + 2 }, { etag: 'e1' }],
      [{ partitionKey: 'job1', rowKey: 'count-2', sent: 2 + 1 }, { etag: 'e2' }],
    ]);
  });

  it("records a sent row's send and ids, and a failure's reason cut to 1000 characters", () => {
    const entity = (fields: Parameters<typeof terminalActions>[3], to: 'sent' | 'failed') =>
      terminalActions('job1', [row(0)], to, fields, shards)[0]![1] as Record<string, unknown>;
    const sent = entity(
      {
        sent: {
          sendId: 's1',
          sentAt: 5,
          messageId: null,
          internetMessageId: null,
          resolved: false,
        },
      },
      'sent',
    );
    expect(sent).toMatchObject({ sendId: 's1', sentAt: 5, idsResolved: false });
    expect(sent).not.toHaveProperty('messageId');
    expect(entity({ error: 'x'.repeat(5000) }, 'failed').error).toHaveLength(1000);
  });

  it('a missing shard is the store being unavailable', () => {
    expect(() => terminalActions('job1', [row(3)], 'failed', {}, new Map())).toThrow(UpstreamError);
  });
});

describe('finish and counts against Azurite', () => {
  let store: BulkStore;
  const jobId = 'job-counted';
  beforeAll(async () => {
    store = await testBulkStore();
    await store.createJob(
      {
        serviceId: 'svc',
        jobId,
        credentialId: 'c1',
        mailbox: 'me@contoso.test',
        total: 120,
        totalRecipients: 120,
        scheduledAt: 0,
        createdAt: new Date().toISOString(),
        templateId: undefined,
        templateVersion: undefined,
      },
      { subject: 's', body: 'b', contentType: 'text', attachments: [] },
      Array.from({ length: 120 }, (_, i) => ({
        to: `r${i}@example.test`,
        cc: [],
        variables: {},
        personalNote: undefined,
      })),
    );
  });

  it('moves more rows than one transaction holds, counting each once', async () => {
    const rows = await store.page(jobId, 0, 120);
    expect(await store.finish(jobId, rows, ['queued'], 'skipped', { error: 'cancelled' })).toBe(
      120,
    );
    expect(await store.counts(jobId)).toEqual({ sent: 0, failed: 0, skipped: 120 });
    // The same rows again: they moved on, so nothing is moved or counted twice.
    expect(await store.finish(jobId, rows, ['queued'], 'skipped')).toBe(0);
    expect(await store.finish(jobId, rows, ['queued'], 'failed')).toBe(0);
    expect(await store.counts(jobId)).toEqual({ sent: 0, failed: 0, skipped: 120 });
  });
});
