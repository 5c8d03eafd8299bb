import { createHash, randomBytes } from 'node:crypto';

import { beforeEach, describe, expect, it, vi } from 'vitest';

import { UPLOAD_CHUNK_BYTES } from '../../src/graph/uploads';
import { sentCopies, sentNow } from '../support/sent-items';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Declared file sizes end to end: the send starts when the `message` part is read and the file
 * flows to its upload session while it arrives (local host, Graph sandbox over HTTP).
 */

const MiB = 1024 * 1024;
const BOUNDARY = 'omf-flow-boundary';
let sender: string;
let recipient: string;
const stack = useStack(
  () => startTestStack({ sandbox: { limits: { uploadBytesPerWindow: 1024 * MiB } } }),
  async (started) => {
    sender = started.sandbox.users[0]!.userPrincipalName;
    recipient = started.sandbox.users[1]!.userPrincipalName;
    await started.connect('c1');
  },
);

beforeEach(() => {
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

interface FilePart {
  field: string;
  name: string;
  bytes: Buffer;
}

/**
 * A multipart body sent as a stream in 256 KiB pieces. `pause` is awaited once `afterBytes` of
 * the body have gone out; when it throws, the client breaks the connection there.
 */
function flowingBody(
  message: unknown,
  files: FilePart[],
  pause?: { afterBytes: number; until: () => Promise<void> },
): RequestInit {
  const body = Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="message"\r\n` +
        `Content-Type: application/json\r\n\r\n${JSON.stringify(message)}\r\n`,
    ),
    ...files.flatMap((f) => [
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      f.bytes,
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${BOUNDARY}--\r\n`),
  ]);
  let sent = 0;
  let paused = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pause && !paused && sent >= pause.afterBytes) {
        paused = true;
        try {
          await pause.until();
        } catch (error) {
          controller.error(error);
          return;
        }
      }
      if (sent >= body.length) return controller.close();
      const piece = body.subarray(sent, sent + 256 * 1024);
      sent += piece.length;
      controller.enqueue(new Uint8Array(piece));
    },
  });
  return {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body: stream,
    duplex: 'half',
  } as RequestInit;
}

async function send(init: RequestInit, headers: Record<string, string> = {}) {
  const response = await stack.api('/api/credentials/c1/send', {
    ...init,
    headers: { ...(init.headers as Record<string, string>), ...headers },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const log = () => stack.sandbox.control.requestLog();
const puts = () => log().filter((e) => e.method === 'PUT' && /AttachmentSessions/i.test(e.path));
const sessionsCancelled = () =>
  log().filter((e) => e.method === 'DELETE' && /AttachmentSessions/i.test(e.path));
const sendCalls = () => log().filter((e) => /\/(sendmail|send)$/i.test(e.path));
const drafts = () => stack.sandbox.control.messages(sender, 'drafts');
const sentWithSubject = (subject: string) => sentCopies(stack.sandbox, sender, subject);
const sentNowWithSubject = (subject: string) => sentNow(stack.sandbox, sender, subject);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The sent message's attachments, read back through the product. */
async function attachmentsOf(messageId: string): Promise<Array<{ name: string; sha: string }>> {
  const base = `/api/credentials/c1/messages/${encodeURIComponent(messageId)}/attachments`;
  const list = (await (await stack.api(base)).json()) as {
    attachments: Array<{ id: string; name: string }>;
  };
  return Promise.all(
    list.attachments.map(async (a) => {
      const content = await stack.api(`${base}/${encodeURIComponent(a.id)}/content`);
      return { name: a.name, sha: sha256(new Uint8Array(await content.arrayBuffer())) };
    }),
  );
}

describe('send with declared file sizes', () => {
  it('uploads the file while it arrives: bytes equal, chunks in order, no Authorization', async () => {
    const file = randomBytes(12 * MiB);
    const { status, body } = await send(
      flowingBody(
        { to: recipient, subject: 'Flowing', fileSizes: { report: file.length } },
        [{ field: 'report', name: 'report.bin', bytes: file }],
        {
          afterBytes: 6 * MiB,
          // Half the file is still with the client: the draft, its session and a chunk are there.
          until: () =>
            vi.waitFor(() => expect(puts().length).toBeGreaterThan(0), {
              timeout: 20_000,
              interval: 20,
            }),
        },
      ),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    const chunks = Math.ceil(file.length / UPLOAD_CHUNK_BYTES);
    // Any chunk out of order would have been refused (416) by the session.
    expect(puts().map((p) => [p.status, p.bodyBytes])).toEqual(
      Array.from({ length: chunks }, (_, i) => [
        i === chunks - 1 ? 201 : 200,
        Math.min(UPLOAD_CHUNK_BYTES, file.length - i * UPLOAD_CHUNK_BYTES),
      ]),
    );
    expect(puts().every((p) => !p.headersPresent.includes('authorization'))).toBe(true);
    expect(await sentWithSubject('Flowing')).toHaveLength(1);
    expect(drafts()).toEqual([]);
    expect(await attachmentsOf(body.messageId as string)).toEqual([
      { name: 'report.bin', sha: sha256(file) },
    ]);
  });

  it('names the part whose size differs from its declaration, cancels the session and deletes the draft', async () => {
    const file = randomBytes(5 * MiB);
    for (const declared of [file.length + 1000, file.length - 1000]) {
      stack.sandbox.control.clearRequestLog();
      const { status, body } = await send(
        flowingBody({ to: recipient, subject: 'Mismatch', fileSizes: { f: declared } }, [
          { field: 'f', name: 'f.bin', bytes: file },
        ]),
      );
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body.errors).toEqual([
        { path: 'files[0]', message: expect.stringMatching(/part "f" has .*declares/) },
      ]);
      expect(sendCalls()).toEqual([]);
      expect(drafts()).toEqual([]);
      expect(sentNowWithSubject('Mismatch')).toEqual([]);
    }
    // Too few bytes: the session was open when the part ended, and is cancelled.
    expect(sessionsCancelled()).toHaveLength(1);
  });

  it('refuses a declared part that never comes, naming it, and sends nothing', async () => {
    const { status, body } = await send(
      flowingBody({ to: recipient, subject: 'Missing', fileSizes: { a: 4 * MiB, b: 10 } }, [
        { field: 'a', name: 'a.bin', bytes: randomBytes(4 * MiB) },
      ]),
    );
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.errors).toEqual([
      { path: 'message.fileSizes.b', message: expect.stringContaining('does not contain') },
    ]);
    expect(sendCalls()).toEqual([]);
    expect(drafts()).toEqual([]);
  });

  it('takes parts in any order: one that arrives while another is awaited is spooled', async () => {
    const big = randomBytes(6 * MiB);
    const small = randomBytes(5000);
    const { status, body } = await send(
      flowingBody(
        {
          to: recipient,
          subject: 'Any order',
          fileSizes: { first: big.length, second: small.length },
          // The send attaches "second" first: "first", arriving before it, waits on disk.
          attachments: [{ file: 'second' }, { file: 'first' }],
        },
        [
          { field: 'first', name: 'first.bin', bytes: big },
          { field: 'second', name: 'second.bin', bytes: small },
        ],
      ),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(await attachmentsOf(body.messageId as string)).toEqual([
      { name: 'second.bin', sha: sha256(small) },
      { name: 'first.bin', sha: sha256(big) },
    ]);
  });

  it('retries a failed chunk from memory (the part cannot be read twice)', async () => {
    stack.sandbox.control.injectFault({
      method: 'PUT',
      path: '/api/v2.0/*',
      status: 503,
      retryAfterSeconds: 0,
      count: 1,
    });
    const file = randomBytes(8 * MiB);
    const { status, body } = await send(
      flowingBody({ to: recipient, subject: 'Retried', fileSizes: { f: file.length } }, [
        { field: 'f', name: 'f.bin', bytes: file },
      ]),
    );
    expect(status, JSON.stringify(body)).toBe(202);
    expect(puts().map((p) => p.status)).toEqual([503, 200, 200, 201]);
    expect(await attachmentsOf(body.messageId as string)).toEqual([
      { name: 'f.bin', sha: sha256(file) },
    ]);
  });

  it('fails cleanly when the session cannot continue, and the Idempotency-Key may be replayed', async () => {
    // The first chunk is kept but its answer is lost; the session then refuses the retry (416)
    // without saying where to continue, so the upload cannot go on.
    stack.sandbox.control.injectFault({
      method: 'PUT',
      path: '/api/v2.0/*',
      status: 504,
      afterAccept: true,
      count: 1,
    });
    const file = randomBytes(5 * MiB);
    const message = { to: recipient, subject: 'Session lost', fileSizes: { f: file.length } };
    const key = { 'idempotency-key': `flow-${randomBytes(6).toString('hex')}` };
    const failed = await send(
      flowingBody(message, [{ field: 'f', name: 'f.bin', bytes: file }]),
      key,
    );
    expect(failed.status, JSON.stringify(failed.body)).toBe(502);
    expect(drafts()).toEqual([]);
    expect(sendCalls()).toEqual([]);

    const replay = await send(
      flowingBody(message, [{ field: 'f', name: 'f.bin', bytes: file }]),
      key,
    );
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    expect(await sentWithSubject('Session lost')).toHaveLength(1);
  });

  it('sends nothing and deletes the draft when the client disconnects mid-upload', async () => {
    const file = randomBytes(12 * MiB);
    const request = send(
      flowingBody(
        { to: recipient, subject: 'Disconnected', fileSizes: { f: file.length } },
        [{ field: 'f', name: 'f.bin', bytes: file }],
        {
          afterBytes: 6 * MiB,
          until: async () => {
            await vi.waitFor(() => expect(puts().length).toBeGreaterThan(0), {
              timeout: 20_000,
              interval: 20,
            });
            throw new Error('the client went away');
          },
        },
      ),
    );
    await expect(request).rejects.toThrow();
    await vi.waitFor(
      () => {
        expect(log().some((e) => e.method === 'DELETE' && /\/messages\//.test(e.path))).toBe(true);
        expect(drafts()).toEqual([]);
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(sendCalls()).toEqual([]);
    expect(sentNowWithSubject('Disconnected')).toEqual([]);
  });

  it('refuses fileSizes in a JSON body', async () => {
    const response = await stack.api('/api/credentials/c1/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: recipient, fileSizes: { f: 1 } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: unknown[] }).errors).toEqual([
      { path: 'fileSizes', message: expect.stringContaining('multipart') },
    ]);
    expect(sendCalls()).toEqual([]);
  });
});
