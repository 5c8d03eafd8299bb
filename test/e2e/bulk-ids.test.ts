import { describe, expect, it, vi } from 'vitest';

import { MAX_ID_LOOKUPS_PER_READ } from '../../src/mail/bulk/sent-ids';
import { resolvedSend, sentCopies } from '../support/sent-items';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Bulk results fill in message ids as `GET …/sends/{sendId}` does: a sandbox whose Sent Items
 * copies appear seconds after the 202 (as Microsoft documents they may), the whole product over
 * HTTP, and the sandbox's request log counting the Graph requests each read of the results makes.
 */

const RATE = 1200;
const DELAY_MS = 3000;
const ROWS = MAX_ID_LOOKUPS_PER_READ + 2;

let sender: string;

const stack = useStack(
  () =>
    startTestStack({
      env: { SEND_RATE_PER_MINUTE: String(RATE) },
      sandbox: {
        limits: { messagesPerSendWindow: RATE, sendWindowMs: 60_000, sentItemsDelayMs: DELAY_MS },
      },
    }),
  async () => {
    sender = stack.sandbox.users[0]!.userPrincipalName;
    await stack.connect('c1');
  },
);

interface Result {
  index: number;
  status: string;
  sendId?: string;
  sentAt?: string;
  messageId?: string | null;
  internetMessageId?: string | null;
  resolved?: boolean;
}
interface Job {
  counts: { queued: number };
  results: Result[];
}

async function read(jobId: string, top = 100): Promise<Job> {
  const response = await stack.api(`/api/credentials/c1/bulk-sends/${jobId}?top=${top}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Job;
}

/** The sandbox's Sent Items searches since the log was last cleared. */
const lookups = () =>
  stack.sandbox.control
    .requestLog()
    .filter((e) => e.path === '/v1.0/me/mailFolders/sentitems/messages');
const graphCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

describe('bulk results: message ids from the Sent Items copies', () => {
  it('a sent row has its sendId and null ids at first, filled in a bounded number per read once the copies appear, then read for free', async () => {
    const accepted = await stack.api('/api/credentials/c1/bulk-sends', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        template: { subject: 'ids {{n}}', body: 'Hello', contentType: 'text' },
        recipients: Array.from({ length: ROWS }, (_, n) => ({
          to: `ids${n}@example.test`,
          variables: { n },
        })),
      }),
    });
    expect(accepted.status).toBe(202);
    const { jobId } = (await accepted.json()) as { jobId: string };
    const subjects = Array.from({ length: ROWS }, (_, n) => `ids ${n}`);
    let seenAwaiting = false;

    // Polled one row a page, so a poll looks up row 0 at most. Row 0 is sent with its sendId and
    // null ids: its copy is seconds away.
    await vi.waitFor(
      async () => {
        const job = await read(jobId, 1);
        const [row0] = job.results;
        if (row0!.status === 'sent' && row0!.resolved === false) {
          expect(row0).toMatchObject({
            sendId: expect.any(String),
            sentAt: expect.any(String),
            messageId: null,
            internetMessageId: null,
          });
          seenAwaiting = true;
        }
        expect(job.counts.queued).toBe(0);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(seenAwaiting).toBe(true);

    const copies = await Promise.all(subjects.map((s) => sentCopies(stack.sandbox, sender, s)));
    // Every copy is there now, and at least MAX + 1 rows (all but row 0) still await their ids.
    stack.sandbox.control.clearRequestLog();
    const first = await read(jobId);
    expect(lookups()).toHaveLength(MAX_ID_LOOKUPS_PER_READ);
    const searched = lookups();
    const filter = new URLSearchParams(searched[0]!.query).get('$filter') ?? '';
    expect(filter).toMatch(/^sentDateTime ge \S+ and sentDateTime le \S+ and /);
    expect(first.results.some((r) => filter.includes(`ep/value eq '${r.sendId}'`))).toBe(true);
    const expected = (n: number) => ({
      messageId: copies[n]![0]!.immutableId,
      internetMessageId: copies[n]![0]!.internetMessageId,
      resolved: true,
    });
    const left = first.results.filter((r) => !r.resolved);
    expect(left.length).toBeGreaterThan(0);
    for (const row of first.results) {
      if (row.resolved) expect(row).toMatchObject(expected(row.index));
      else expect(row).toMatchObject({ messageId: null, internetMessageId: null });
    }

    // The next read looks up only the rows left; after it, reading costs no Graph request.
    stack.sandbox.control.clearRequestLog();
    const second = await read(jobId);
    expect(lookups()).toHaveLength(left.length);
    for (const row of second.results) expect(row).toMatchObject(expected(row.index));
    stack.sandbox.control.clearRequestLog();
    expect(await read(jobId)).toEqual(second);
    expect(graphCalls()).toEqual([]);

    // The row's sendId is the send's: GET …/sends/{sendId} tells the same ids.
    const row = second.results[3]!;
    expect(await resolvedSend(stack, 'c1', row.sendId)).toMatchObject({
      messageId: row.messageId,
      internetMessageId: row.internetMessageId,
      sentAt: row.sentAt,
    });
  });
});
