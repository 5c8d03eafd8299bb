import { randomBytes } from 'node:crypto';

import { beforeEach, describe, expect, it } from 'vitest';

import { DEFAULT_LIMITS } from '../../src/local/sandbox/limits';
import { DEFAULT_BULK_SETTINGS } from '../../src/mail/bulk/jobs';
import { call, token, value } from '../support/sandbox';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Graph's size limits are decimal where the docs say MB: 4,000,000 bytes per request and per
 * upload range, upload sessions from 3,000,000 bytes. The sandbox counts them so by default, and
 * every size below sits between the decimal and the binary reading (4,000,000–4,194,304 bytes,
 * 3,000,000–3,145,728 bytes): a product that assumed MiB would send a request Microsoft 365
 * refuses, or lean on a 413 to find the other way. Each send must get through on the first try.
 */

let recipient: string;
const stack = useStack(
  () => startTestStack(),
  async (started) => {
    recipient = started.sandbox.users[1]!.userPrincipalName;
    await started.connect('c1');
  },
);

const REQUEST_LIMIT = 4_000_000;

async function send(subject: string, files: Array<{ name: string; bytes: Buffer }>) {
  const form = new FormData();
  form.append('message', JSON.stringify({ to: recipient, subject, body: 'sizes' }));
  for (const file of files) {
    form.append('f', new Blob([new Uint8Array(file.bytes)]), file.name);
  }
  const response = await stack.api('/api/credentials/c1/send', { method: 'POST', body: form });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const graphLog = () =>
  stack.sandbox.control
    .requestLog()
    .filter((e) => e.path.startsWith('/v1.0/') || /AttachmentSessions/i.test(e.path));

/** The attachments the recipient got, by name and size (read from the sandbox as Graph). */
async function delivered(subject: string) {
  const [message] = stack.sandbox.control
    .messages(recipient, 'inbox')
    .filter((m) => m.subject === subject);
  const t = await token(stack.sandbox, recipient);
  const list = await call(
    stack.sandbox,
    t,
    'GET',
    `/v1.0/me/messages/${message!.id}/attachments?$select=name,size`,
  );
  return value(list).map((a) => ({ name: a.name, size: a.size }));
}

/** Nothing refused for its size, and no request over Graph's limit (upload ranges included). */
function expectWithinLimits() {
  const log = graphLog();
  expect(log.filter((e) => e.status === 413)).toEqual([]);
  expect(log.filter((e) => e.bodyBytes > REQUEST_LIMIT)).toEqual([]);
}

beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe("Graph's decimal size limits", () => {
  it('a message whose one request would be 4,0xx,xxx bytes goes by draft, each request within 4,000,000', async () => {
    // Together ~4,013,000 bytes as base64 JSON: over 4,000,000, under 4 MiB.
    const files = [
      { name: 'a.bin', bytes: randomBytes(2_990_000) },
      { name: 'b.bin', bytes: randomBytes(20_000) },
    ];
    const { status, body } = await send('Decimal request', files);
    expect(status, JSON.stringify(body)).toBe(202);
    expectWithinLimits();
    const paths = graphLog().map((e) => `${e.method} ${e.path}`);
    expect(paths).not.toContain(`POST /v1.0/me/sendMail`);
    expect(paths).toContainEqual(
      expect.stringMatching(/^POST \/v1\.0\/me\/messages\/[^/]+\/send$/),
    );
    expect(await delivered('Decimal request')).toEqual([
      { name: 'a.bin', size: 2_990_000 },
      { name: 'b.bin', size: 20_000 },
    ]);
  });

  it('a 3,050,000-byte file goes by upload session at once (over 3,000,000, under 3 MiB)', async () => {
    const { status, body } = await send('Decimal session', [
      { name: 'c.bin', bytes: randomBytes(3_050_000) },
    ]);
    expect(status, JSON.stringify(body)).toBe(202);
    expectWithinLimits();
    const log = graphLog();
    expect(log.filter((e) => /\/attachments\/createUploadSession$/.test(e.path))).toHaveLength(1);
    expect(log.filter((e) => e.method === 'POST' && /\/attachments$/.test(e.path))).toEqual([]);
    expect(await delivered('Decimal session')).toEqual([{ name: 'c.bin', size: 3_050_000 }]);
  });

  it('uploads a 9,000,000-byte file in ranges of at most 4,000,000 bytes', async () => {
    const { status, body } = await send('Decimal ranges', [
      { name: 'd.bin', bytes: randomBytes(9_000_000) },
    ]);
    expect(status, JSON.stringify(body)).toBe(202);
    expectWithinLimits();
    const puts = graphLog().filter((e) => e.method === 'PUT');
    expect(puts.length).toBeGreaterThan(2);
    expect(puts.reduce((sum, e) => sum + e.bodyBytes, 0)).toBe(9_000_000);
    expect(await delivered('Decimal ranges')).toEqual([{ name: 'd.bin', size: 9_000_000 }]);
  });

  it("bulk jobs pace their uploads within Graph's 150 MB (150,000,000 bytes) per 5 minutes", () => {
    expect(DEFAULT_LIMITS.uploadBytesPerWindow).toBe(150_000_000);
    expect(DEFAULT_BULK_SETTINGS.uploadBytesPerWindow).toBeLessThanOrEqual(
      DEFAULT_LIMITS.uploadBytesPerWindow,
    );
    expect(DEFAULT_BULK_SETTINGS.uploadWindowMs).toBeGreaterThanOrEqual(
      DEFAULT_LIMITS.uploadWindowMs,
    );
  });
});
