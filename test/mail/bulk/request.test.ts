import { describe, expect, it } from 'vitest';

import {
  checkSchedule,
  MAX_SCHEDULE_AHEAD_MS,
  readBulkRequest,
  rowMergeFields,
} from '../../../src/mail/bulk/request';
import { validationErrors } from '../../support/errors';

/** The shape step of accepting a bulk job: the job's fields and every row read apart. */

const template = { subject: 'Hi {{name}}', body: 'x', contentType: 'text' };
const row = (to: string, extra: Record<string, unknown> = {}) => ({
  to,
  variables: { name: to },
  ...extra,
});

describe('readBulkRequest', () => {
  it('reads a good request with defaults filled in and no problems', () => {
    const read = readBulkRequest({ template, recipients: [row('a@example.test')] });
    expect(read.errors).toEqual([]);
    expect(read.request).toMatchObject({ template, replyTo: [] });
    expect(read.rows).toEqual([
      {
        row: { to: 'a@example.test', cc: [], variables: { name: 'a@example.test' } },
        partial: { to: 'a@example.test', cc: [], variables: { name: 'a@example.test' } },
        errors: [],
      },
    ]);
  });

  it("collects every row's problems even when the job's own fields are wrong", () => {
    const read = readBulkRequest({
      template,
      templateId: 't1',
      surprise: 1,
      recipients: [row('nope'), row('b@example.test', { cc: ['also-nope'] })],
    });
    expect(read.request).toBeUndefined();
    expect(read.errors.map((e) => e.path)).toEqual([
      'surprise',
      'templateId',
      'recipients[0].to',
      'recipients[1].cc[0]',
    ]);
  });

  it('keeps what of a bad row can still be checked against the template', () => {
    const read = readBulkRequest({
      template,
      recipients: [row('nope', { personalNote: 'Hi' }), { to: 'x', variables: 'not an object' }],
    });
    expect(read.rows[0]).toMatchObject({
      row: undefined,
      partial: { to: '', cc: [], variables: { name: 'nope' }, personalNote: 'Hi' },
    });
    // Variables that are not an object cannot be checked against the template.
    expect(read.rows[1]).toMatchObject({ row: undefined, partial: undefined });
  });

  it('reads no rows from a body without a recipients list', () => {
    for (const body of [null, 'text', { template }, { template, recipients: 'all' }]) {
      const read = readBulkRequest(body);
      expect(read.request).toBeUndefined();
      expect(read.rows).toEqual([]);
      expect(read.errors.length).toBeGreaterThan(0);
    }
  });

  it('rowMergeFields: the variables and note of any row, when well formed', () => {
    expect(rowMergeFields({ variables: { a: 1 }, personalNote: 'n' })).toEqual({
      variables: { a: 1 },
      personalNote: 'n',
    });
    expect(rowMergeFields({})).toEqual({ variables: {}, personalNote: undefined });
    expect(rowMergeFields({ personalNote: 'x'.repeat(2001) })).toBeUndefined();
    expect(rowMergeFields(null)).toEqual({ variables: {}, personalNote: undefined });
  });
});

describe('checkSchedule', () => {
  const now = Date.parse('2026-12-06T09:00:00Z');
  const refused = (at: string) => validationErrors(() => checkSchedule(at, now));

  it('starts now without a date, at the date within 30 days, tolerating a minute of skew', () => {
    expect(checkSchedule(undefined, now)).toBe(0);
    expect(checkSchedule('2026-12-07T09:00:00Z', now)).toBe(now + 86_400_000);
    expect(checkSchedule('2026-12-06T08:59:30Z', now)).toBe(now - 30_000);
    expect(checkSchedule(new Date(now + MAX_SCHEDULE_AHEAD_MS).toISOString(), now)).toBe(
      now + MAX_SCHEDULE_AHEAD_MS,
    );
  });

  it('refuses the past and more than 30 days ahead, naming scheduledAt', async () => {
    expect(await refused('2026-12-06T08:58:00Z')).toEqual([
      { path: 'scheduledAt', message: 'is in the past' },
    ]);
    expect(await refused(new Date(now + MAX_SCHEDULE_AHEAD_MS + 1000).toISOString())).toEqual([
      { path: 'scheduledAt', message: 'is more than 30 days ahead' },
    ]);
  });
});
