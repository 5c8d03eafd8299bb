import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestStack, type TestStack } from '../support/stack';

/**
 * Tenant isolation of `GET credentials/{id}/sends/{sendId}`: a send id is a capability only for
 * the credential that sent it. Another service naming the same credential id, or another
 * credential of the same service, learns nothing (404, as for an unknown id) and costs no Graph
 * request in the sender's mailbox.
 */

let stack: TestStack;
let sendId: string;

const graphCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

beforeAll(async () => {
  stack = await startTestStack({ sandbox: { messagesPerUser: 5 } });
  const megan = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('c1');
  await stack.connect('c2');
  // Another service with a credential of the same id, on another mailbox.
  await stack.connect('c1', { serviceId: 'other', upn: megan });
  const response = await stack.api('/api/credentials/c1/send', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ to: megan, subject: 'Private send', body: 'x' }),
  });
  expect(response.status).toBe(202);
  sendId = ((await response.json()) as { sendId: string }).sendId;
});
afterAll(() => stack?.close());

const get = (credentialId: string, serviceId: string) =>
  stack.api(`/api/credentials/${credentialId}/sends/${sendId}`, { serviceId });

describe('send records are the sending credential’s alone', () => {
  it('answers the owner', async () => {
    const own = await get('c1', 'svc');
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ sendId, status: 'sent' });
  });

  it('answers 404 to another service naming the same credential id, without touching Graph', async () => {
    stack.sandbox.control.clearRequestLog();
    const foreign = await get('c1', 'other');
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.stringify(await foreign.json())).not.toContain('Private send');
    expect(graphCalls()).toEqual([]);
  });

  it('answers 404 to another credential of the same service', async () => {
    stack.sandbox.control.clearRequestLog();
    const sibling = await get('c2', 'svc');
    expect(sibling.status).toBe(404);
    expect(graphCalls()).toEqual([]);
  });
});
