import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestStack, type TestStack } from '../support/stack';

/**
 * Two instances of the app (two composition roots, two local hosts) against one sandbox mailbox:
 * Graph's 4 concurrent requests per app per mailbox count across both. Each instance runs 12
 * reads at once; the sandbox answers 429 MailboxConcurrency to any fifth concurrent request.
 */
describe('mailbox concurrency across instances', () => {
  let first: TestStack;
  const stacks: TestStack[] = [];
  const start = async (env: Record<string, string>): Promise<TestStack> => {
    const stack = await startTestStack({
      ...(first ? { instanceOf: first } : { sandbox: { latencyMs: 40, messagesPerUser: 30 } }),
      env: { REQUEST_BUDGET_SECONDS: '30', ...env },
    });
    await stack.connect('c1');
    stacks.push(stack);
    return stack;
  };

  beforeAll(async () => {
    first = await start({ MAILBOX_SLOTS: 'shared' });
  });
  // The first stack owns the sandbox and storage: it closes last.
  afterAll(async () => {
    for (const stack of stacks.reverse()) await stack.close();
  });

  async function burst(instances: TestStack[]) {
    const before = first.sandbox.control.throttles().mailboxConcurrency;
    const responses = await Promise.all(
      instances.flatMap((stack) =>
        Array.from({ length: 12 }, (_, i) =>
          stack.api(`/api/credentials/c1/messages?top=${i + 1}`),
        ),
      ),
    );
    return {
      statuses: responses.map((r) => r.status),
      throttled: first.sandbox.control.throttles().mailboxConcurrency - before,
    };
  }

  it('with each instance keeping only its own 4, the mailbox is over its limit', async () => {
    const a = await start({ MAILBOX_SLOTS: 'instance' });
    const b = await start({ MAILBOX_SLOTS: 'instance' });
    const { throttled } = await burst([a, b]);
    expect(throttled).toBeGreaterThan(0);
  });

  it('with the budget shared, two instances never exceed it and every request succeeds', async () => {
    const second = await start({ MAILBOX_SLOTS: 'shared' });
    const { statuses, throttled } = await burst([first, second]);
    expect(statuses).toEqual(Array(24).fill(200));
    expect(throttled).toBe(0);
  });
});
