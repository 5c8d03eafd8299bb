import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';

import { beforeEach, describe, expect, it, vi } from 'vitest';

import { UPLOAD_CHUNK_BYTES } from '../../src/graph/uploads';
import { resolvedSend, sentCopies, sentNow } from '../support/sent-items';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * The send route end to end: the local host, the real Graph helper and the Graph sandbox over
 * HTTP, Azurite for idempotency keys.
 */

let sender: string;
let recipient: string;
let third: string;
const stack = useStack(
  () =>
    startTestStack({
      // 150 MiB plus the rest must fit the sandbox's per-mailbox upload window in one go.
      sandbox: { limits: { uploadBytesPerWindow: 1024 * MiB } },
      app: { sentCopies: { firstDelayMs: 1000 } },
    }),
  async (started) => {
    sender = started.sandbox.users[0]!.userPrincipalName;
    recipient = started.sandbox.users[1]!.userPrincipalName;
    third = started.sandbox.users[2]!.userPrincipalName;
    await started.connect('c1');
  },
);

const MiB = 1024 * 1024;

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

function multipart(
  message: unknown,
  files: Array<{ field: string; name: string; type?: string; bytes: Buffer }>,
  headers: Record<string, string> = {},
): RequestInit {
  const form = new FormData();
  form.append('message', JSON.stringify(message));
  for (const file of files) {
    const blob = new Blob([new Uint8Array(file.bytes)], {
      type: file.type ?? 'application/octet-stream',
    });
    form.append(file.field, blob, file.name);
  }
  return { method: 'POST', body: form, headers };
}

/** A hand-written multipart body, for parts FormData cannot express (no file name). */
function rawMultipart(parts: Array<{ headers: string; body: string }>): RequestInit {
  const boundary = 'omf-test-boundary';
  const body =
    parts.map((p) => `--${boundary}\r\n${p.headers}\r\n\r\n${p.body}\r\n`).join('') +
    `--${boundary}--\r\n`;
  return {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
  };
}

async function send(init: RequestInit, credentialId = 'c1') {
  const response = await stack.api(`/api/credentials/${credentialId}/send`, init);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, contentType: response.headers.get('content-type') };
}

const graphCalls = () =>
  stack.sandbox.control
    .requestLog()
    .filter((e) => e.path.startsWith('/v1.0/') || /AttachmentSessions/i.test(e.path));
const sendCalls = () => graphCalls().filter((e) => /\/(sendmail|send)$/i.test(e.path));
const sentWithSubject = (subject: string) => sentCopies(stack.sandbox, sender, subject);
const sentNowWithSubject = (subject: string) => sentNow(stack.sandbox, sender, subject);
const drafts = () => stack.sandbox.control.messages(sender, 'drafts');
const uploadDirs = async () =>
  (await readdir(tmpdir())).filter((name) => name.startsWith('omf-upload-'));

beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe('send: JSON, one sendMail', () => {
  it('sends the seed example in one sendMail, answers at once, and gives the Sent Items ids later', async () => {
    const { status, body } = await send(
      json({ to: recipient, subject: 'Hello', body: '<b>Hi</b>', contentType: 'html' }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({
      status: 'sent',
      sendId: expect.any(String),
      messageId: null,
      internetMessageId: null,
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // One request: the answer did not wait for the copy.
    expect(graphCalls().map((c) => `${c.method} ${c.path}`)).toEqual([
      expect.stringMatching(/^POST \/v1\.0\/me\/sendMail$/),
    ]);
    const [sent] = await sentWithSubject('Hello');
    const resolved = await resolvedSend(stack, 'c1', body.sendId);
    expect(resolved).toEqual({
      sendId: body.sendId,
      status: 'sent',
      messageId: sent!.immutableId,
      internetMessageId: sent!.internetMessageId,
      sentAt: body.sentAt,
      savedToSentItems: true,
      resolved: true,
      sentItemsCopy: 'kept',
    });
  });

  it('takes every recipient form, reply-to, importance, x- headers and a small inline image', async () => {
    const png = randomBytes(2048);
    const { status, body } = await send(
      json({
        to: [recipient, { address: third, name: 'Third Person' }],
        cc: { address: recipient },
        bcc: [third],
        replyTo: ['replies@example.com'],
        subject: 'All fields',
        body: '<p>logo <img src="cid:logo1"></p>',
        contentType: 'html',
        importance: 'high',
        headers: { 'x-campaign': 'spring', 'X-Ticket': '42' },
        attachments: [
          {
            name: 'r.txt',
            contentType: 'text/plain',
            contentBase64: Buffer.from('report').toString('base64'),
          },
          {
            name: 'logo.png',
            contentType: 'image/png',
            contentBase64: png.toString('base64'),
            isInline: true,
            contentId: 'logo1',
          },
        ],
      }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(sendCalls().map((c) => c.path)).toEqual([expect.stringMatching(/\/me\/sendMail$/)]);
    const [sent] = await sentWithSubject('All fields');
    expect(sent).toMatchObject({
      importance: 'high',
      toRecipients: [
        { emailAddress: { address: recipient } },
        { emailAddress: { address: third, name: 'Third Person' } },
      ],
      replyTo: [{ emailAddress: { address: 'replies@example.com' } }],
      hasAttachments: true,
    });
    const inbox = stack.sandbox.control
      .messages(recipient, 'inbox')
      .find((m) => m.subject === 'All fields');
    expect(inbox).toBeDefined();
  });

  it('honours saveToSentItems=false: nothing in Sent Items, ids reported as null', async () => {
    const { status, body } = await send(
      json({ to: recipient, subject: 'Not saved', body: 'x', saveToSentItems: false }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ messageId: null, internetMessageId: null });
    expect(sentNowWithSubject('Not saved')).toHaveLength(0);
    expect(
      stack.sandbox.control.messages(recipient, 'inbox').some((m) => m.subject === 'Not saved'),
    ).toBe(true);
  });

  it('refuses a from the credential may not send as with a 400 naming from, before any send', async () => {
    const { status, body, contentType } = await send(
      json({ to: recipient, subject: 'As someone else', from: third }),
    );
    expect(status).toBe(400);
    expect(contentType).toContain('application/problem+json');
    expect(body.errors).toEqual([{ path: 'from', message: expect.stringContaining(third) }]);
    expect(sendCalls()).toHaveLength(0);
    expect(sentNowWithSubject('As someone else')).toHaveLength(0);
  });
});

describe('send: bad input never reaches Graph', () => {
  const cases: Array<[string, RequestInit, number, string]> = [
    ['an invalid address', json({ to: [recipient, 'not-an-address'], subject: 's' }), 400, 'to[1]'],
    ['an invalid object address', json({ to: [{ address: 'x@' }] }), 400, 'to[0].address'],
    ['no recipients at all', json({ to: [], subject: 's' }), 400, 'to'],
    [
      'an unknown contentType',
      json({ to: recipient, contentType: 'markdown' }),
      400,
      'contentType',
    ],
    ['an unknown field', json({ to: recipient, subjet: 'typo' }), 400, 'subjet'],
    ['an unknown importance', json({ to: recipient, importance: 'urgent' }), 400, 'importance'],
    [
      'bad base64',
      json({ to: recipient, attachments: [{ name: 'a', contentBase64: 'abc$==' }] }),
      400,
      'attachments[0].contentBase64',
    ],
    [
      'base64 with bad padding',
      json({ to: recipient, attachments: [{ name: 'a', contentBase64: 'abcde' }] }),
      400,
      'attachments[0].contentBase64',
    ],
    [
      'an attachment without a name',
      json({ to: recipient, attachments: [{ contentBase64: 'AAAA' }] }),
      400,
      'attachments[0].name',
    ],
    [
      'an inline attachment without contentId',
      json({ to: recipient, attachments: [{ name: 'a', contentBase64: 'AAAA', isInline: true }] }),
      400,
      'attachments[0].contentId',
    ],
    [
      'a header not starting with x-',
      json({ to: recipient, headers: { 'List-Unsubscribe': '<mailto:u@x.com>' } }),
      400,
      'headers.List-Unsubscribe',
    ],
    [
      'one header name twice, in different case',
      json({ to: recipient, headers: { 'x-ticket': '1', 'X-Ticket': '2' } }),
      400,
      'headers.X-Ticket',
    ],
    [
      'six custom headers',
      json({
        to: recipient,
        headers: Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`x-h${i}`, 'v'])),
      }),
      400,
      'headers',
    ],
    [
      '501 recipients',
      json({ to: Array.from({ length: 501 }, (_, i) => `r${i}@example.com`) }),
      400,
      'to',
    ],
    [
      'a body that is not JSON',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":' },
      400,
      'body',
    ],
    [
      'an Idempotency-Key that is too long',
      json({ to: recipient }, { 'idempotency-key': 'k'.repeat(201) }),
      400,
      'header.Idempotency-Key',
    ],
    [
      'an Idempotency-Key with a control character',
      json({ to: recipient }, { 'idempotency-key': 'a\tb' }),
      400,
      'header.Idempotency-Key',
    ],
    [
      'a file part without a file name',
      rawMultipart([
        {
          headers: 'Content-Disposition: form-data; name="message"',
          body: '{"to":"a@example.com"}',
        },
        {
          headers: 'Content-Disposition: form-data; name="doc"\r\nContent-Type: application/pdf',
          body: '%PDF-1.4',
        },
      ]),
      400,
      'files[0]',
    ],
    [
      'a multipart body without message',
      rawMultipart([
        { headers: 'Content-Disposition: form-data; name="f"; filename="a.txt"', body: 'x' },
      ]),
      400,
      'message',
    ],
    [
      'a multipart message that is not JSON',
      rawMultipart([{ headers: 'Content-Disposition: form-data; name="message"', body: '{to:' }]),
      400,
      'message',
    ],
    [
      'a multipart description naming no file part',
      multipart(
        { to: 'a@example.com', attachments: [{ file: 'nope', isInline: true, contentId: 'c' }] },
        [{ field: 'f', name: 'a.txt', bytes: Buffer.from('x') }],
      ),
      400,
      'attachments[0].file',
    ],
    [
      'a file reference in JSON',
      json({ to: recipient, attachments: [{ file: 'doc' }] }),
      400,
      'attachments[0].file',
    ],
  ];

  it.each(cases)(
    'refuses %s (%i, names %s) without calling Graph',
    async (_name, init, status, path) => {
      const before = await uploadDirs();
      const result = await send(init);
      expect(result.status, JSON.stringify(result.body)).toBe(status);
      expect(result.contentType).toContain('application/problem+json');
      const errors = result.body.errors as Array<{ path: string }>;
      expect(errors.map((e) => e.path)).toContain(path);
      expect(graphCalls()).toEqual([]);
      expect(await uploadDirs()).toEqual(before);
    },
  );

  it('answers 415 for another media type and 400 for a bad credential id', async () => {
    const text = await send({
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hi',
    });
    expect(text.status).toBe(415);
    const badId = await send(json({ to: recipient }), 'bad.id');
    expect(badId.status).toBe(400);
    expect(graphCalls()).toEqual([]);
  });

  it('refuses a message over MAX_MESSAGE_SIZE_MB with 413 naming the file and the limit', async () => {
    const before = await uploadDirs();
    const big = Buffer.alloc(36 * MiB, 1);
    const result = await send(
      multipart({ to: recipient, subject: 'too big' }, [
        { field: 'a', name: 'small.bin', bytes: Buffer.alloc(10) },
        { field: 'b', name: 'big.bin', bytes: big },
      ]),
    );
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ code: 'payload_too_large', limitBytes: 35_000_000 });
    expect((result.body.errors as Array<{ path: string }>)[0]!.path).toBe('files[1]');
    expect(graphCalls()).toEqual([]);
    expect(await uploadDirs()).toEqual(before);
  });

  it('counts the size as Exchange does: a 27 MB file is over 35 MB once encoded (413, both sizes)', async () => {
    const before = await uploadDirs();
    const result = await send(
      multipart({ to: recipient, subject: 'encoded too big' }, [
        { field: 'f', name: 'scan.pdf', bytes: Buffer.alloc(27_000_000, 1) },
      ]),
    );
    expect(result.status).toBe(413);
    expect(result.body).toMatchObject({ code: 'payload_too_large', limitBytes: 35_000_000 });
    const { rawBytes, encodedBytes } = result.body as { rawBytes: number; encodedBytes: number };
    expect(rawBytes).toBeGreaterThanOrEqual(27_000_000);
    expect(rawBytes).toBeLessThan(35_000_000);
    // base64 (4/3) with a CRLF every 76 characters, plus headers.
    expect(encodedBytes).toBeGreaterThan(Math.ceil((27_000_000 * 4) / 3));
    expect(result.body.detail).toContain(String(encodedBytes));
    expect(result.body.detail).toContain(String(rawBytes));
    expect((result.body.errors as Array<{ path: string }>)[0]!.path).toBe('files[0]');
    expect(graphCalls()).toEqual([]);
    expect(await uploadDirs()).toEqual(before);
  });

  it('refuses JSON attachments over the size limit with 413 naming the attachment', async () => {
    const result = await send(
      json({
        to: recipient,
        body: 'b'.repeat(2 * MiB),
        attachments: [
          // 30 MB raw fits the request; encoded it is about 41 MB, over the 35 MB limit.
          { name: 'big.bin', contentBase64: Buffer.alloc(30_000_000).toString('base64') },
        ],
      }),
    );
    expect(result.status).toBe(413);
    expect((result.body.errors as Array<{ path: string }>)[0]!.path).toBe('attachments[0]');
    expect(graphCalls()).toEqual([]);
  });
});

describe('send: large attachments by draft and upload session', () => {
  it('sends a 5 MB JSON attachment through a draft and an upload session', async () => {
    const bytes = randomBytes(5 * MiB);
    const { status, body } = await send(
      json({
        to: recipient,
        subject: 'Five MB',
        attachments: [
          {
            name: 'five.bin',
            contentType: 'application/octet-stream',
            contentBase64: bytes.toString('base64'),
          },
          {
            name: 'note.txt',
            contentType: 'text/plain',
            contentBase64: Buffer.from('hi').toString('base64'),
          },
        ],
      }),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const log = graphCalls();
    const puts = log.filter((e) => e.method === 'PUT');
    expect(puts).toHaveLength(Math.ceil((5 * MiB) / UPLOAD_CHUNK_BYTES));
    for (const put of puts) {
      expect(put.headersPresent).not.toContain('authorization');
      expect(put.bodyBytes).toBeLessThanOrEqual(4 * MiB);
    }
    expect(log.some((e) => /\/messages$/.test(e.path) && e.method === 'POST')).toBe(true);
    expect(sendCalls().map((c) => c.path)).toEqual([
      expect.stringMatching(/\/messages\/[^/]+\/send$/),
    ]);
    const [sent] = await sentWithSubject('Five MB');
    expect(body.messageId).toBe(sent!.immutableId);
    expect(body.internetMessageId).toBe(sent!.internetMessageId);
    expect(drafts()).toEqual([]);
    const delivered = stack.sandbox.control
      .messages(recipient, 'inbox')
      .find((m) => m.subject === 'Five MB');
    expect(delivered?.hasAttachments).toBe(true);
  });

  it('streams a 20 MB multipart file with an inline image described by its part', async () => {
    const before = await uploadDirs();
    const file = randomBytes(20 * MiB);
    const { status, body } = await send(
      multipart(
        {
          to: recipient,
          subject: 'Twenty MB',
          body: '<img src="cid:chart">',
          contentType: 'html',
          attachments: [{ file: 'chart', isInline: true, contentId: 'chart' }],
        },
        [
          { field: 'report', name: 'report.pdf', type: 'application/pdf', bytes: file },
          { field: 'chart', name: 'chart.png', type: 'image/png', bytes: randomBytes(4 * MiB) },
        ],
      ),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await sentWithSubject('Twenty MB')).toHaveLength(1);
    expect(drafts()).toEqual([]);
    expect(await uploadDirs()).toEqual(before);
    const sessions = graphCalls().filter((e) => /createUploadSession$/i.test(e.path));
    expect(sessions).toHaveLength(2);
  });

  it('retries a throttled chunk from where the server expects it', async () => {
    // The sandbox applies only connection drops to upload URLs.
    stack.sandbox.control.injectFault({ method: 'PUT', path: '/api/v2.0/*', drop: true, count: 1 });
    const { status, body } = await send(
      multipart({ to: recipient, subject: 'Retried chunk' }, [
        { field: 'f', name: 'f.bin', bytes: randomBytes(8 * MiB) },
      ]),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const puts = stack.sandbox.control.requestLog().filter((e) => e.method === 'PUT');
    expect(puts.map((p) => p.status)).toEqual([0, 200, 200, 201]);
    expect(await sentWithSubject('Retried chunk')).toHaveLength(1);
  });

  it('honours saveToSentItems=false on the draft flow: nothing in Drafts, sent once, the copy Graph keeps deleted by the queued job', async () => {
    const { status, body } = await send(
      multipart({ to: recipient, subject: 'Large not saved', saveToSentItems: false }, [
        { field: 'f', name: 'f.bin', bytes: randomBytes(4 * MiB) },
      ]),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ status: 'sent', messageId: null, internetMessageId: null });
    expect(sendCalls().map((c) => c.path)).toEqual([
      expect.stringMatching(/\/messages\/[^/]+\/send$/),
    ]);
    expect(drafts()).toEqual([]);
    const delivered = stack.sandbox.control
      .messages(recipient, 'inbox')
      .filter((m) => m.subject === 'Large not saved');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.hasAttachments).toBe(true);
    await vi.waitFor(
      async () => {
        const status = await stack.api(`/api/credentials/c1/sends/${String(body.sendId)}`);
        expect(((await status.json()) as Record<string, unknown>).sentItemsCopy).toBe('deleted');
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(sentNowWithSubject('Large not saved')).toEqual([]);
    expect(stack.sandbox.control.outbox(sender)).toEqual([]);
  });

  it('deletes the draft when creating the upload session fails', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/createUploadSession',
      status: 503,
      count: 1,
    });
    const { status } = await send(
      multipart({ to: recipient, subject: 'No session' }, [
        { field: 'f', name: 'f.bin', bytes: randomBytes(4 * MiB) },
      ]),
    );
    expect(status).toBe(503);
    expect(drafts()).toEqual([]);
    expect(sendCalls()).toEqual([]);
  });
});

describe('send: attachments around the 3 MB line and shared mailboxes', () => {
  it.each([3_050_000, 3_140_000])(
    'sends a %i-byte file with every Graph request within the request limit',
    async (size) => {
      const subject = `Near 3 MB ${size}`;
      const { status, body } = await send(
        multipart({ to: recipient, subject }, [
          { field: 'f', name: 'f.bin', bytes: randomBytes(size) },
        ]),
      );
      expect(status, JSON.stringify(body)).toBe(202);
      // The sandbox's "3 MB" is 3 MiB: its session refuses the file, which then goes by POST.
      expect(graphCalls().filter((c) => c.status === 413)).toEqual([]);
      expect(await sentWithSubject(subject)).toEqual([
        expect.objectContaining({ hasAttachments: true }),
      ]);
    },
  );

  it('sends a large attachment from the shared mailbox by a draft in the signed-in mailbox', async () => {
    const shared = 'support@contoso.test';
    await stack.connect('c-shared', {
      mailbox: shared,
      scopes: [
        'offline_access',
        'User.Read',
        'Mail.ReadWrite',
        'Mail.Send',
        'Mail.ReadWrite.Shared',
        'Mail.Send.Shared',
      ],
    });
    stack.sandbox.control.clearRequestLog();
    const { status, body } = await send(
      multipart({ to: recipient, subject: 'Shared large' }, [
        { field: 'f', name: 'f.bin', bytes: randomBytes(4 * MiB) },
      ]),
      'c-shared',
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const sessions = graphCalls().filter((c) => /createUploadSession$/i.test(c.path));
    expect(sessions.map((c) => [c.path.startsWith('/v1.0/me/'), c.status])).toEqual([[true, 201]]);
    const [copy] = await sentWithSubject('Shared large');
    expect(copy).toMatchObject({ from: { emailAddress: { address: shared } } });
    expect(body.messageId).toBe(copy!.immutableId);
    const delivered = stack.sandbox.control
      .messages(recipient, 'inbox')
      .filter((m) => m.subject === 'Shared large');
    expect(delivered).toEqual([
      expect.objectContaining({
        from: expect.objectContaining({
          emailAddress: expect.objectContaining({ address: shared }),
        }),
        hasAttachments: true,
      }),
    ]);
  });
});

describe('send: never twice', () => {
  it('replays a repeat with the same Idempotency-Key and sends once', async () => {
    const request = { to: recipient, subject: 'Idempotent', body: 'once' };
    const first = await send(json(request, { 'idempotency-key': 'order-1' }));
    const second = await send(json(request, { 'idempotency-key': 'order-1' }));
    expect(first.status).toBe(202);
    expect(second).toEqual(first);
    expect(sendCalls()).toHaveLength(1);
    expect(await sentWithSubject('Idempotent')).toHaveLength(1);
  });

  it('answers 409 idempotency_conflict for the same key with another body', async () => {
    await send(json({ to: recipient, subject: 'K2' }, { 'idempotency-key': 'order-2' }));
    const other = await send(
      json({ to: recipient, subject: 'K2 changed' }, { 'idempotency-key': 'order-2' }),
    );
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_conflict');
    expect(sentNowWithSubject('K2 changed')).toHaveLength(0);
  });

  it('scopes keys per credential and service', async () => {
    await stack.connect('c2');
    const a = await send(
      json({ to: recipient, subject: 'Scoped' }, { 'idempotency-key': 'same' }),
      'c1',
    );
    const b = await send(
      json({ to: recipient, subject: 'Scoped' }, { 'idempotency-key': 'same' }),
      'c2',
    );
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.sendId).not.toBe(a.body.sendId);
  });

  it('lets a corrected retry reuse the key of a request that failed validation', async () => {
    const bad = await send(
      json({ to: 'nope', subject: 'Fixed' }, { 'idempotency-key': 'order-3' }),
    );
    expect(bad.status).toBe(400);
    const good = await send(
      json({ to: recipient, subject: 'Fixed' }, { 'idempotency-key': 'order-3' }),
    );
    expect(good.status).toBe(202);
  });

  it('releases the key after a definite failure before sending', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/createUploadSession',
      status: 503,
      count: 1,
    });
    const init = () =>
      multipart(
        { to: recipient, subject: 'Second try' },
        [{ field: 'f', name: 'f.bin', bytes: Buffer.alloc(4 * MiB, 3) }],
        {
          'idempotency-key': 'order-4',
        },
      );
    expect((await send(init())).status).toBe(503);
    expect((await send(init())).status).toBe(202);
    expect(await sentWithSubject('Second try')).toHaveLength(1);
  });

  it('makes concurrent repeats wait for the first and send once', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/sendMail',
      latencyMs: 800,
      count: 5,
    });
    const request = json(
      { to: recipient, subject: 'Concurrent' },
      { 'idempotency-key': 'order-5' },
    );
    const results = await Promise.all([send(request), send(request), send(request)]);
    expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(results.map((r) => r.body.sendId)).size).toBe(1);
    expect(sendCalls()).toHaveLength(1);
    expect(await sentWithSubject('Concurrent')).toHaveLength(1);
  });

  it("finds a sendMail whose answer was a 504 after accepting it by its send id property, with all 5 header slots the caller's", async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/sendMail',
      afterAccept: true,
      count: 1,
    });
    const headers = { 'x-omf-send-id': 'mine', 'x-a': '1', 'x-b': '2', 'x-c': '3', 'x-d': '4' };
    const { status, body } = await send(json({ to: recipient, subject: 'Lost answer', headers }));
    expect(status, JSON.stringify(body)).toBe(202);
    expect(sendCalls().map((c) => c.path)).toEqual([expect.stringMatching(/\/me\/sendMail$/)]);
    const lookups = graphCalls().filter((c) => /\/mailFolders\/sentitems\/messages$/.test(c.path));
    expect(new URLSearchParams(lookups[0]!.query).get('$filter')).toMatch(
      /^singleValueExtendedProperties\/Any\(ep: ep\/id eq 'String \{[0-9a-f-]{36}\} Name omfSendId' and ep\/value eq '/,
    );
    const sent = await sentWithSubject('Lost answer');
    expect(sent).toHaveLength(1);
    expect(body.messageId).toBe(sent[0]!.immutableId);
    expect(
      stack.sandbox.control.messages(recipient, 'inbox').filter((m) => m.subject === 'Lost answer'),
    ).toHaveLength(1);
  });

  it('finds a draft /send whose answer was a 504 after accepting it, and does not send again', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/send',
      afterAccept: true,
      count: 1,
    });
    const { status, body } = await send(
      multipart({ to: recipient, subject: 'Lost draft answer' }, [
        { field: 'f', name: 'f.bin', bytes: randomBytes(4 * MiB) },
      ]),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(sendCalls()).toHaveLength(1);
    expect(await sentWithSubject('Lost draft answer')).toHaveLength(1);
    expect(drafts()).toEqual([]);
  });
});
