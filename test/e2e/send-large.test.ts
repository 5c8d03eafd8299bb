import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { UPLOAD_CHUNK_BYTES } from '../../src/graph/uploads';
import { sentCopies } from '../support/sent-items';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * The largest attachment Exchange takes, end to end, with the tenant's MaxSendSize raised to its
 * 150 MB maximum: the limit counts the encoded message, so the file is about 109 MB, not 150.
 */

const MiB = 1024 * 1024;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    env: { MAX_MESSAGE_SIZE_MB: '150' },
    // 109 MB in one go is more than Outlook's 150 MB per 5 minutes once encoded: widen the window.
    sandbox: { limits: { uploadBytesPerWindow: 1024 * MiB, maxSendSizeBytes: 150_000_000 } },
    services: ['svc'],
  });
  await stack.connect('c1');
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

// 109 MB in base64 with line breaks is about 149.2 MB: the message stays under 150 MB as sent.
const FILE_BYTES = 109_000_000;

it('sends the largest file a 150 MB MaxSendSize allows, streamed through multipart in chunks', async () => {
  const sender = stack.sandbox.users[0]!.userPrincipalName;
  const recipient = stack.sandbox.users[1]!.userPrincipalName;
  const uploads = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('omf-upload-'));
  const before = await uploads();
  const form = new FormData();
  form.append('message', JSON.stringify({ to: recipient, subject: 'Max size' }));
  form.append('file', new Blob([new Uint8Array(FILE_BYTES).fill(7)]), 'max.bin');
  stack.sandbox.control.clearRequestLog();

  const response = await stack.api('/api/credentials/c1/send', { method: 'POST', body: form });
  const body = (await response.json()) as Record<string, unknown>;

  expect(response.status, JSON.stringify(body)).toBe(202);
  const puts = stack.sandbox.control.requestLog().filter((e) => e.method === 'PUT');
  expect(puts).toHaveLength(Math.ceil(FILE_BYTES / UPLOAD_CHUNK_BYTES));
  expect(puts.every((p) => !p.headersPresent.includes('authorization'))).toBe(true);
  const sent = await sentCopies(stack.sandbox, sender, 'Max size');
  expect(sent).toHaveLength(1);
  expect(body.messageId).toBe(sent[0]!.immutableId);
  expect(stack.sandbox.control.messages(sender, 'drafts')).toEqual([]);
  expect(await uploads()).toEqual(before);
}, 180_000);
