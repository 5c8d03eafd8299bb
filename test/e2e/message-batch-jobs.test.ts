import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { startTestStack, type TestStack } from '../support/stack';

const ADELE = 'adele@contoso.test';

interface JobView {
  jobId: string;
  status: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  statusUrl?: string;
  results: Array<{ messageId: string; status: string; error?: { code: string } }>;
}

/**
 * `POST messages/batch` over the request's budget: 202 with a job the local host's queue worker
 * runs, polled at `GET messages/batch/{jobId}`. The budget is 8 s, so a batch that would take
 * longer at the mailbox's pace (1.5 s a chunk of 20 until measured) goes to a job.
 */
describe('batch jobs end to end', () => {
  let stack: TestStack;
  const add = (subject: string) =>
    stack.sandbox.control.addMessage(ADELE, 'inbox', {
      subject,
      body: { contentType: 'text', content: subject },
      from: { emailAddress: { address: 'ian.obrien@adatum.example' } },
      isRead: false,
    }).immutableId;
  const isRead = (ids: string[]) =>
    stack.sandbox.control
      .messages(ADELE, 'inbox')
      .filter((m) => ids.includes(m.immutableId))
      .every((m) => m.isRead === true);
  // Each test uses a credential of its own: the pace measured for one does not carry to the next.
  const batch = (body: unknown, headers: Record<string, string> = {}, credential = 'c1') =>
    stack.api(`/api/credentials/${credential}/messages/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const poll = async (jobId: string, credential = 'c1'): Promise<JobView> =>
    vi.waitFor(
      async () => {
        const response = await stack.api(`/api/credentials/${credential}/messages/batch/${jobId}`);
        expect(response.status).toBe(200);
        const view = (await response.json()) as JobView;
        expect(view.status).toBe('completed');
        return view;
      },
      { timeout: 60_000, interval: 200 },
    );
  const patchesOf = (id: string) =>
    stack.sandbox.control
      .requestLog()
      .filter((e) => e.inBatch && e.method === 'PATCH' && e.path.endsWith(`/messages/${id}`));

  beforeAll(async () => {
    stack = await startTestStack({ env: { REQUEST_BUDGET_SECONDS: '8' } });
    for (const credential of ['c1', 'c2', 'c3']) await stack.connect(credential);
  });
  afterAll(() => stack?.close());
  beforeEach(() => {
    stack.sandbox.control.clearRequestLog();
    stack.sandbox.control.clearFaults();
  });

  it('hands a batch that cannot fit the budget to a job up front: 202, then every result', async () => {
    const ids = Array.from({ length: 119 }, (_, i) => add(`Job ${i}`));
    const missing = 'AAkALgAAAAAAHYQDEapmEc2byACqAC-MISSING';
    const response = await batch({ action: 'markRead', messageIds: [...ids, missing] });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as JobView;
    expect(response.headers.get('location')).toBe(accepted.statusUrl);
    expect(accepted.statusUrl).toMatch(
      new RegExp(`/api/credentials/c1/messages/batch/${accepted.jobId}$`),
    );
    expect(accepted).toMatchObject({ total: 120, pending: 120, done: 0 });
    const done = await poll(accepted.jobId);
    expect(done).toMatchObject({ total: 120, done: 119, failed: 1, pending: 0 });
    expect(done.results.map((r) => r.messageId)).toEqual([...ids, missing]);
    expect(done.results[119]).toMatchObject({ status: 'failed', error: { code: 'not_found' } });
    expect(isRead(ids)).toBe(true);
    // Six chunks of 20, each one $batch.
    const outer = stack.sandbox.control.requestLog().filter((e) => e.path === '/v1.0/$batch');
    expect(outer).toHaveLength(6);
  });

  it('maps an Idempotency-Key to the same job', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => add(`Keyed ${i}`));
    const headers = { 'idempotency-key': 'tidy-jobs-1' };
    const first = await batch({ action: 'flag', messageIds: ids }, headers, 'c2');
    expect(first.status).toBe(202);
    const { jobId } = (await first.json()) as JobView;
    const again = await batch({ action: 'flag', messageIds: ids }, headers, 'c2');
    expect(again.status).toBe(202);
    expect(((await again.json()) as JobView).jobId).toBe(jobId);
    await poll(jobId, 'c2');
    const flagged = stack.sandbox.control
      .messages(ADELE, 'inbox')
      .filter((m) => ids.includes(m.immutableId));
    expect(flagged.every((m) => (m.flag as { flagStatus?: string }).flagStatus === 'flagged')).toBe(
      true,
    );
    expect(
      stack.sandbox.control.requestLog().filter((e) => e.inBatch && e.method === 'PATCH'),
    ).toHaveLength(120);
  });

  it('hands the rest to a job when the budget runs short mid-way, doing nothing twice', async () => {
    // Measure the mailbox's pace first: small batches finish in the request.
    const warm = Array.from({ length: 40 }, (_, i) => add(`Warm ${i}`));
    expect((await batch({ action: 'markRead', messageIds: warm }, {}, 'c3')).status).toBe(200);

    const ids = Array.from({ length: 100 }, (_, i) => add(`Slow ${i}`));
    // The first chunk is slow: one of its messages takes 5 s inside Outlook.
    stack.sandbox.control.injectFault({
      method: 'PATCH',
      path: `/v1.0/me/messages/${ids[3]}`,
      latencyMs: 5_000,
      count: 1,
    });
    const response = await batch({ action: 'markRead', messageIds: ids }, {}, 'c3');
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as JobView;
    // What the request did is kept: the first chunk is done, the rest pending.
    expect(accepted.done).toBeGreaterThanOrEqual(20);
    expect(accepted.pending).toBe(100 - accepted.done);
    expect(accepted.results.slice(0, 20).every((r) => r.status === 'done')).toBe(true);
    const done = await poll(accepted.jobId, 'c3');
    expect(done).toMatchObject({ done: 100, failed: 0 });
    expect(isRead(ids)).toBe(true);
    for (const id of ids) expect(patchesOf(id)).toHaveLength(1);
  });

  it('answers 404 for a job id that does not exist', async () => {
    const response = await stack.api(
      '/api/credentials/c1/messages/batch/00000000-0000-4000-8000-000000000000',
    );
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});
