import { beforeEach, describe, expect, it } from 'vitest';

import { startTestStack } from '../support/stack';
import { DEFAULT_SCOPES } from '../../src/config';
import { useStack } from '../support/use-stack';

const SUPPORT = 'support@contoso.test';

describe('read routes under throttling, concurrency and shared mailboxes', () => {
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

  const stack = useStack(
    () =>
      startTestStack({
        storage: false,
        sandbox: { latencyMs: 25 },
        env: { REQUEST_BUDGET_SECONDS: '3' },
      }),
    async () => {
      await stack.connect('c1');
      await stack.connect('shared', {
        scopes: [...DEFAULT_SCOPES, 'Mail.Read.Shared', 'Mail.ReadWrite.Shared'],
      });
    },
  );
  beforeEach(() => {
    stack.sandbox.control.clearRequestLog();
    stack.sandbox.control.clearFaults();
  });

  it('succeeds after one 429 with Retry-After: 0.5', async () => {
    stack.sandbox.control.injectFault({
      method: 'GET',
      path: '/v1.0/me/messages*',
      status: 429,
      retryAfterSeconds: 0.5,
      count: 1,
    });
    const started = Date.now();
    const response = await stack.api('/api/credentials/c1/messages?top=5');
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(graphCalls().map((c) => c.status)).toEqual([429, 200]);
  });

  it('answers 429 problem+json with Retry-After when throttling outlasts the budget', async () => {
    stack.sandbox.control.injectFault({
      method: 'GET',
      path: '/v1.0/me/messages*',
      status: 429,
      retryAfterSeconds: 1,
    });
    const started = Date.now();
    const response = await stack.api('/api/credentials/c1/messages?top=5');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await response.json()) as { code: string }).code).toBe('graph_throttled');
  });

  it('honours inner 429s of the folder batches', async () => {
    stack.sandbox.control.injectFault({
      method: 'GET',
      path: '/v1.0/me/mailFolders/*/childFolders*',
      status: 429,
      retryAfterSeconds: 0.2,
      count: 2,
    });
    const response = await stack.api('/api/credentials/c1/folders?recursive=true');
    expect(response.status).toBe(200);
    const { folders } = (await response.json()) as { folders: Array<{ path: string }> };
    expect(folders.map((f) => f.path)).toContain('Inbox/Projects/2026');
    expect(graphCalls().filter((c) => c.status === 429).length).toBe(2);
  });

  it('keeps to 4 concurrent Graph requests per mailbox with 20 parallel calls', async () => {
    const calls = Array.from({ length: 20 }, (_, i) =>
      stack.api(
        i % 4 === 0
          ? '/api/credentials/c1/folders?recursive=true'
          : `/api/credentials/c1/messages?top=${i + 1}`,
      ),
    );
    const responses = await Promise.all(calls);
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    // The sandbox answers 429 MailboxConcurrency to a fifth concurrent request: none happened.
    expect(graphCalls().filter((c) => c.status === 429)).toEqual([]);
    expect(graphCalls().length).toBeGreaterThanOrEqual(20);
  });

  it('reads a shared mailbox through /users/{upn} with the .Shared scopes', async () => {
    const response = await stack.api(
      `/api/credentials/shared/messages?mailbox=${SUPPORT}&folder=inbox&top=3`,
    );
    expect(response.status).toBe(200);
    const { messages } = (await response.json()) as { messages: Array<{ id: string }> };
    expect(messages.map((m) => m.id)).toEqual(
      stack.sandbox.control
        .messages(SUPPORT, 'inbox')
        .slice(0, 3)
        .map((m) => m.immutableId),
    );
    expect(graphCalls()[0]!.path).toBe(
      '/v1.0/users/support%40contoso.test/mailFolders/inbox/messages',
    );
    const folders = await stack.api(`/api/credentials/shared/folders?mailbox=${SUPPORT}`);
    expect(folders.status).toBe(200);
  });

  it('refuses a shared mailbox without the .Shared scopes, before calling Graph', async () => {
    const response = await stack.api(`/api/credentials/c1/messages?mailbox=${SUPPORT}`);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { code: string }).code).toBe('forbidden');
    expect(graphCalls()).toEqual([]);
  });
});
