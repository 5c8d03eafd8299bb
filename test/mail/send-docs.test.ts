import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../src/core/abort';
import { createLogger } from '../../src/core/logger';
import { createSendService } from '../../src/mail/send';
import { type OutgoingMessage } from '../../src/mail/send-types';
import { type DocGraph, type DocGraphOptions, startDocGraph } from '../support/send-doc-graph';
import { fileAttachment, outgoingMessage } from '../support/send-fixtures';

/**
 * The send service against a Graph that behaves as Microsoft documents it (see
 * `send-doc-graph.ts`): lost answers found by the send id extended property, attachments around
 * the 3 MB line, and large attachments from a shared mailbox.
 */

const SELF = 'adele@doc.test';
const SHARED = 'support@doc.test';
const key = { serviceId: 'svc', credentialId: 'c1' };
const log = createLogger(() => undefined, {});
const SEND_ID_FILTER =
  /^singleValueExtendedProperties\/Any\(ep: ep\/id eq 'String \{[0-9a-f-]{36}\} Name omfSendId' and ep\/value eq '([^']+)'\)$/;

let doc: DocGraph | undefined;
afterEach(async () => {
  await doc?.close();
  doc = undefined;
});

async function start(options: Partial<DocGraphOptions> = {}) {
  doc = await startDocGraph({ self: SELF, ...options });
  const service = createSendService({
    graph: doc.graph,
    maxMessageSizeBytes: 35 * 1024 * 1024,
    confirm: { lostAnswerMs: 1000, afterSendMs: 500, firstDelayMs: 50 },
  });
  const send = (message: Partial<OutgoingMessage>) =>
    service.send(key, outgoingMessage('megan@doc.test', 'Doc', message), {
      abortSignal: budgetSignal(20_000),
      log,
    });
  return { doc, send };
}

const file = (name: string, size: number) => fileAttachment(name, randomBytes(size));

const calls = (d: DocGraph, method: string, path: RegExp) =>
  d.requests.filter((r) => r.method === method && path.test(r.path));

describe('send id: a single-value extended property, not an internet header', () => {
  it('finds a sendMail whose answer was lost in Sent Items, where internet headers do not exist', async () => {
    const { doc, send } = await start();
    doc.loseAnswer('POST', /\/sendMail$/);
    const result = await send({ subject: 'Lost', headers: { 'x-a': '1' } });

    const [sendMail] = calls(doc, 'POST', /\/sendMail$/);
    const marker = (sendMail!.body as { message: { singleValueExtendedProperties: unknown } })
      .message.singleValueExtendedProperties;
    expect(marker).toEqual([
      {
        id: expect.stringMatching(/^String \{[0-9a-f-]{36}\} Name omfSendId$/),
        value: result.sendId,
      },
    ]);
    const lookups = calls(doc, 'GET', /\/mailFolders\/sentitems\/messages$/);
    expect(lookups.length).toBeGreaterThan(0);
    expect(SEND_ID_FILTER.exec(lookups[0]!.query.get('$filter') ?? '')?.[1]).toBe(result.sendId);
    const [copy] = doc.messages.filter((m) => m.folder === 'sentitems');
    expect(result).toMatchObject({ status: 'sent', messageId: copy!.id });
    expect(calls(doc, 'POST', /\/sendMail$/)).toHaveLength(1);
  });

  it('gives every one of the 5 header slots to the caller and still sends in one request', async () => {
    const { doc, send } = await start();
    const headers = Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`x-h${i}`, `v${i}`]));
    headers['x-omf-send-id'] = headers['x-h5']!;
    delete headers['x-h5'];
    const result = await send({ subject: 'Five headers', headers });
    const [sendMail] = calls(doc, 'POST', /\/sendMail$/);
    const sentHeaders = (sendMail!.body as { message: { internetMessageHeaders: unknown[] } })
      .message.internetMessageHeaders;
    expect(sentHeaders).toHaveLength(5);
    expect(calls(doc, 'POST', /\/messages$/)).toEqual([]);
    // Answered at once: the copy's ids are looked up later (GET …/sends/{sendId}), not here.
    expect(result.messageId).toBeNull();
    expect(calls(doc, 'GET', /\/mailFolders\/sentitems\/messages$/)).toEqual([]);
  });

  it('finds and deletes a draft whose create answer was lost, by the property in Drafts', async () => {
    const { doc, send } = await start();
    doc.loseAnswer('POST', /\/me\/messages$/);
    const error = await send({
      subject: 'Create lost',
      attachments: [file('big.bin', 3_500_000)],
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'graph_unavailable' });
    const lookups = calls(doc, 'GET', /\/mailFolders\/drafts\/messages$/);
    expect(SEND_ID_FILTER.test(lookups[0]?.query.get('$filter') ?? '')).toBe(true);
    expect(calls(doc, 'DELETE', /\/messages\/[^/]+$/)).toHaveLength(1);
    expect(doc.messages).toEqual([]);
  });
});

describe('attachments around the 3 MB line (decimal bounds, 4,000,000-byte requests)', () => {
  const sizes = [3_050_000, 3_140_000];

  it.each(sizes)(
    'sends a %i-byte file by upload session where Graph counts 3 MB as 3,000,000',
    async (size) => {
      const { doc, send } = await start();
      const result = await send({ subject: `File ${size}`, attachments: [file('f.bin', size)] });
      expect(result.status).toBe('sent');
      expect(doc.requests.every((r) => r.bytes <= 4_000_000)).toBe(true);
      expect(doc.requests.filter((r) => r.status >= 400)).toEqual([]);
      const [sent] = doc.messages.filter((m) => m.folder === 'sentitems');
      expect(sent!.attachments).toEqual([{ name: 'f.bin', size, via: 'session' }]);
    },
  );

  it.each(sizes)(
    'falls back to POST /attachments for a %i-byte file when Graph counts 3 MB as 3 MiB',
    async (size) => {
      // A Graph whose MB is binary: no session under 3 MiB, requests up to 4 MiB.
      const { doc, send } = await start({
        minSessionBytes: 3 * 1024 * 1024,
        maxPostBytes: 3 * 1024 * 1024,
        maxRequestBytes: 4 * 1024 * 1024,
      });
      const result = await send({ subject: `File ${size}`, attachments: [file('f.bin', size)] });
      expect(result.status).toBe('sent');
      const session = calls(doc, 'POST', /\/createUploadSession$/);
      expect(session.map((r) => r.status)).toEqual([400]);
      expect(calls(doc, 'POST', /\/attachments$/).map((r) => r.status)).toEqual([201]);
      const [sent] = doc.messages.filter((m) => m.folder === 'sentitems');
      expect(sent!.attachments).toEqual([{ name: 'f.bin', size, via: 'json' }]);
    },
  );

  it('falls back to an upload session when POST /attachments answers 413', async () => {
    // A Graph stricter than the docs on single requests.
    const { doc, send } = await start({ maxPostBytes: 2_000_000, minSessionBytes: 2_000_000 });
    const result = await send({
      subject: 'Strict',
      attachments: [file('a.bin', 2_900_000), file('b.bin', 2_900_000)],
    });
    expect(result.status).toBe('sent');
    const [sent] = doc.messages.filter((m) => m.folder === 'sentitems');
    // The first rides in the create request; the second's POST is refused, its session is not.
    expect(sent!.attachments.map((a) => a.via)).toEqual(['json', 'session']);
    expect(calls(doc, 'POST', /\/attachments$/).map((r) => r.status)).toEqual([413]);
    expect(calls(doc, 'POST', /\/createUploadSession$/).map((r) => r.status)).toEqual([201]);
    expect(calls(doc, 'POST', /\/send$/)).toHaveLength(1);
  });

  it('sends two 2.9 MB files in one create and one POST, each request within 4,000,000 bytes', async () => {
    const { doc, send } = await start();
    await send({
      subject: 'Two',
      attachments: [file('a.bin', 2_900_000), file('b.bin', 2_900_000)],
    });
    expect(doc.requests.every((r) => r.bytes <= 4_000_000)).toBe(true);
    expect(doc.requests.filter((r) => r.status >= 400)).toEqual([]);
    expect(calls(doc, 'POST', /\/createUploadSession$/)).toEqual([]);
  });
});

describe('shared mailbox with a large attachment', () => {
  it('drafts and uploads in the signed-in mailbox with from set to the shared mailbox', async () => {
    const { doc, send } = await start();
    const result = await send({
      subject: 'From support',
      mailbox: SHARED,
      attachments: [file('big.bin', 5_000_000)],
    });
    expect(result.status).toBe('sent');
    const [create] = calls(doc, 'POST', /\/messages$/);
    expect(create!.path).toBe('/me/messages');
    expect((create!.body as { from: unknown }).from).toEqual({ emailAddress: { address: SHARED } });
    expect(
      calls(doc, 'POST', /\/createUploadSession$/).map((r) => [r.path.slice(0, 4), r.status]),
    ).toEqual([['/me/', 201]]);
    expect(calls(doc, 'POST', /\/send$/).map((r) => r.path)).toEqual([
      expect.stringMatching(/^\/me\/messages\/[^/]+\/send$/),
    ]);
    expect(result.messageId).toBe(doc.messages[0]!.id);
  });

  it('keeps small attachments of a shared mailbox send in the shared mailbox (one sendMail)', async () => {
    const { doc, send } = await start();
    await send({ subject: 'Small', mailbox: SHARED, attachments: [file('s.bin', 1000)] });
    expect(calls(doc, 'POST', /\/sendMail$/).map((r) => r.path)).toEqual([
      `/users/${SHARED}/sendMail`,
    ]);
  });
});
