import http from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { maxJsonBodyBytes } from '../../src/http/send-request';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Issue #14, finding 6: a multipart `message` part sent as a file was buffered up to the 150 MiB
 * file limit. It is capped at the JSON body limit while it streams: the answer (413 naming the
 * part) comes while the client is still sending, and nothing waits for the rest.
 */

const MiB = 1024 * 1024;
let stack: TestStack;

beforeAll(async () => {
  // A 1 MB message limit: the message part may be ~2.3 MB (JSON body limit), not more.
  stack = await startTestStack({ env: { MAX_MESSAGE_SIZE_MB: '1' }, storage: false });
  await stack.connect('c1');
});
afterAll(async () => {
  await stack?.close();
});

/** Sends the head of a multipart body and `bytes` of a `message` file part, and never ends it. */
function sendUnfinished(bytes: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(`${stack.host.url}/api/credentials/c1/send`);
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: {
        'x-api-key': stack.apiKeys.svc!,
        'content-type': 'multipart/form-data; boundary=XyZ',
      },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        request.destroy();
      });
    });
    request.on('error', reject);
    request.write(
      '--XyZ\r\nContent-Disposition: form-data; name="message"; filename="message.json"\r\n' +
        'Content-Type: application/json\r\n\r\n{"to":"a@example.com","body":"',
    );
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let sent = 0; sent < bytes; sent += chunk.length) request.write(chunk);
    // No end(): a server that waits for the whole part never answers.
  });
}

describe('finding 6: the message part sent as a file', () => {
  it('is refused with 413 naming the part at the JSON body limit, before the body ends', async () => {
    const limit = maxJsonBodyBytes(1_000_000);
    const answer = await sendUnfinished(limit + 2 * MiB);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({
      code: 'payload_too_large',
      limitBytes: limit,
      errors: [{ path: 'message' }],
    });
  });

  it('within the limit it is read like the field', async () => {
    const boundary = 'XyZ';
    const message = JSON.stringify({ to: 'a@example.com', subject: 'part as a file', body: 'b' });
    const response = await stack.api('/api/credentials/c1/send', {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body:
        `--${boundary}\r\nContent-Disposition: form-data; name="message"; filename="m.json"\r\n` +
        `Content-Type: application/json\r\n\r\n${message}\r\n--${boundary}--\r\n`,
    });
    expect(response.status).toBe(202);
  });
});
