import { describe, expect, it } from 'vitest';

import { InvalidCursorError } from '../../../src/core/errors';
import { decodeCursor, encodeCursor, resultRow } from '../../../src/mail/bulk/results';
import { recipientRow } from '../../support/bulk-harness';

/** A job's results a page at a time: each row as the caller sees it, and the cursor. */

const base = recipientRow({ index: 7, to: 'a@example.test' });

describe('resultRow', () => {
  it('a sent row carries its send and the ids known so far (null until found)', () => {
    const sentAt = Date.parse('2026-12-06T09:00:00Z');
    expect(resultRow({ ...base, state: 'sent', sendId: 's1', sentAt, idsResolved: false })).toEqual(
      {
        index: 7,
        to: 'a@example.test',
        status: 'sent',
        sendId: 's1',
        sentAt: '2026-12-06T09:00:00.000Z',
        messageId: null,
        internetMessageId: null,
        resolved: false,
      },
    );
    expect(
      resultRow({
        ...base,
        state: 'sent',
        sendId: 's1',
        sentAt,
        messageId: 'm',
        internetMessageId: '<i@x>',
      }),
    ).toMatchObject({ messageId: 'm', internetMessageId: '<i@x>', resolved: true });
  });

  it('a row sent before sends were recorded shows the id it has, resolved', () => {
    expect(resultRow({ ...base, state: 'sent', messageId: 'm' })).toEqual({
      index: 7,
      to: 'a@example.test',
      status: 'sent',
      messageId: 'm',
      internetMessageId: null,
      resolved: true,
    });
  });

  it('other rows carry their state and error, no ids', () => {
    expect(resultRow(base)).toEqual({ index: 7, to: 'a@example.test', status: 'queued' });
    expect(resultRow({ ...base, state: 'failed', error: 'graph_error: 400', sendId: 's' })).toEqual(
      {
        index: 7,
        to: 'a@example.test',
        status: 'failed',
        error: 'graph_error: 400',
      },
    );
  });
});

describe('results cursor', () => {
  it('round-trips the index for its own job only', () => {
    expect(decodeCursor('job1', encodeCursor('job1', 42))).toBe(42);
    expect(() => decodeCursor('job2', encodeCursor('job1', 42))).toThrow(InvalidCursorError);
  });

  it('refuses junk and altered cursors', () => {
    const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      'not-a-cursor',
      forged({ j: 'job1', i: -1 }),
      forged({ j: 'job1', i: 1.5 }),
      forged({ j: 'job1', i: '3' }),
      forged({ j: 'job1' }),
      forged(null),
    ]) {
      expect(() => decodeCursor('job1', cursor), cursor).toThrow(InvalidCursorError);
    }
  });
});
