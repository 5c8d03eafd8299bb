import { expect, vi } from 'vitest';

import { type MessageInfo, type Sandbox } from '../../src/local/sandbox';
import { type TestStack } from './stack';

/**
 * Sent Items copies: Graph answers a send before its copy exists ("may take time to appear"), and
 * the sandbox imitates it (`sentItemsDelayMs`), so tests wait for a copy instead of assuming it.
 */

const WAIT = { timeout: 15_000, interval: 50 };

/** The copies with `subject` in `upn`'s Sent Items once at least `count` have appeared. */
export function sentCopies(
  sandbox: Sandbox,
  upn: string,
  subject: string,
  count = 1,
): Promise<MessageInfo[]> {
  return vi.waitFor(() => {
    const copies = sandbox.control.sentItems(upn).filter((m) => m.subject === subject);
    expect(copies.length).toBeGreaterThanOrEqual(count);
    return copies;
  }, WAIT);
}

/** The copies with `subject` in Sent Items right now (for checking that none is there). */
export function sentNow(sandbox: Sandbox, upn: string, subject: string): MessageInfo[] {
  return sandbox.control.sentItems(upn).filter((m) => m.subject === subject);
}

/** `GET credentials/{id}/sends/{sendId}` asked until its ids are final (`resolved: true`). */
export function resolvedSend(
  stack: Pick<TestStack, 'api'>,
  credentialId: string,
  sendId: unknown,
): Promise<Record<string, unknown>> {
  return vi.waitFor(async () => {
    const response = await stack.api(`/api/credentials/${credentialId}/sends/${String(sendId)}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.resolved).toBe(true);
    return body;
  }, WAIT);
}
