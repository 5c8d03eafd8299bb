import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestStack, type TestStack } from '../support/stack';

/**
 * A batch job's id is no key to it: only the service and credential that made the job can read
 * it. Another service (even with a credential of the same name) and another credential of the
 * same service get the 404 an unknown id gets, and learn nothing of its messages.
 */
describe('batch jobs are isolated per service and credential', () => {
  let stack: TestStack;
  let jobId: string;

  beforeAll(async () => {
    // A budget that 120 messages cannot fit at the assumed pace: the batch becomes a job.
    stack = await startTestStack({ env: { REQUEST_BUDGET_SECONDS: '8' } });
    await stack.connect('c1');
    await stack.connect('c2');
    await stack.connect('c1', { serviceId: 'other', upn: 'megan@contoso.test' });
    const ids = Array.from(
      { length: 120 },
      (_, i) =>
        stack.sandbox.control.addMessage('adele@contoso.test', 'inbox', {
          subject: `Private ${i}`,
          body: { contentType: 'text', content: 'x' },
        }).immutableId,
    );
    const response = await stack.api('/api/credentials/c1/messages/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'markRead', messageIds: ids }),
    });
    expect(response.status).toBe(202);
    jobId = ((await response.json()) as { jobId: string }).jobId;
  });
  afterAll(() => stack?.close());

  const read = (credential: string, serviceId = 'svc') =>
    stack.api(`/api/credentials/${credential}/messages/batch/${jobId}`, { serviceId });

  it('answers the job to the service and credential that made it', async () => {
    expect((await read('c1')).status).toBe(200);
  });

  it('answers 404 to another service holding a credential of the same name', async () => {
    const response = await read('c1', 'other');
    expect(response.status).toBe(404);
    const text = await response.text();
    expect(text).not.toContain('Private');
  });

  it('answers 404 to another credential of the same service', async () => {
    expect((await read('c2')).status).toBe(404);
  });
});
