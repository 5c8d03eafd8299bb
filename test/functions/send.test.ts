import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sender: string;
let recipient: string;

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

beforeAll(async () => {
  stack = await startTestStack();
  sender = stack.sandbox.users[0]!.userPrincipalName;
  recipient = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('c1');
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe('POST /api/credentials/{id}/send (JSON)', () => {
  it('sends the seed example in one sendMail and reports the Sent Items ids', async () => {
    const response = await stack.api(
      '/api/credentials/c1/send',
      json({ to: recipient, subject: 'Hello', body: '<b>Hi</b>', contentType: 'html' }),
    );
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ status: 'sent', sendId: expect.any(String) });
    const sends = stack.sandbox.control.requestLog().filter((e) => /sendmail$/i.test(e.path));
    expect(sends).toHaveLength(1);
    const sent = stack.sandbox.control.sentItems(sender);
    expect(sent.some((m) => m.subject === 'Hello')).toBe(true);
    expect(body.messageId).toBeTruthy();
    expect(body.internetMessageId).toBeTruthy();
  });
});
