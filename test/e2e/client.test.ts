import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createMailClient, isMailApiError, MailApiError } from '../../src/client';
import { type AttachmentSource } from '../../src/client/attachments';
import { sendBody } from '../../src/client/send';
import { sentCopies } from '../support/sent-items';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * The typed client end to end: the local host with the Graph sandbox and Azurite, as a platform
 * would call it (openapi-fetch over HTTP, nothing stubbed).
 */

let stack: TestStack;
let adele: string;
let megan: string;
const MiB = 1024 * 1024;

const client = (serviceId = 'svc') =>
  createMailClient({ baseUrl: `${stack.host.url}/api`, apiKey: stack.apiKeys[serviceId]! });

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

/** The message Megan received with this subject (delivery is immediate in the sandbox). */
async function received(subject: string) {
  const inbox = client().credential('megan');
  for await (const page of inbox.listMessages({ folder: 'inbox', subject, top: 5 })) {
    const [mail] = page.messages;
    if (mail) return mail;
  }
  throw new Error(`no message "${subject}" in Megan's inbox`);
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  return Buffer.from(await new Response(stream).arrayBuffer());
}

beforeAll(async () => {
  stack = await startTestStack();
  adele = stack.sandbox.users[0]!.userPrincipalName;
  megan = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('demo', { upn: adele });
  await stack.connect('megan', { upn: megan });
}, 120_000);
afterAll(() => stack?.close());

describe('the seed example, as written', () => {
  it('outlookMailIntegration.sendMail({to, subject, body, contentType}) sends the mail', async () => {
    const outlookMailIntegration = createMailClient({
      baseUrl: `${stack.host.url}/api`,
      apiKey: stack.apiKeys.svc!,
    }).credential('demo');
    const result = await outlookMailIntegration.sendMail({
      to: megan,
      subject: 'Hello from the integration',
      body: 'Sent with the typed client.',
      contentType: 'text',
    });
    console.log('seed sendMail example →', JSON.stringify(result));
    expect(result).toMatchObject({ status: 'sent', sendId: expect.any(String) });
    // One sendMail: its ids come once the Sent Items copy has appeared, from getSend.
    expect(result.messageId).toBeNull();
    const later = await vi.waitFor(
      async () => {
        const status = await outlookMailIntegration.getSend(result.sendId);
        expect(status.resolved).toBe(true);
        return status;
      },
      { timeout: 15_000, interval: 100 },
    );
    expect(later).toMatchObject({ sendId: result.sendId, status: 'sent', sentAt: result.sentAt });
    expect(later.messageId).toEqual(expect.any(String));
    const mail = await received('Hello from the integration');
    expect(mail.from?.address).toBe(adele);
  });
});

describe('reading', () => {
  it('lists folders with paths and walks every page of a folder through the cursor', async () => {
    const demo = client().credential('demo');
    const folders = await demo.listFolders({ recursive: true });
    expect(folders.map((f) => f.path)).toEqual(expect.arrayContaining(['Inbox', 'Inbox/Projects']));
    const inbox = folders.find((f) => f.wellKnownName === 'inbox')!;

    const pages = await collect(demo.listMessages({ folder: 'inbox', top: 40 }));
    const ids = pages.flatMap((p) => p.messages.map((m) => m.id));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.at(-1)!.nextCursor).toBeNull();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(inbox.totalItemCount);
  });

  it('filters with JavaScript values (booleans, dates) and stops when the caller breaks', async () => {
    const demo = client().credential('demo');
    const since = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    let pagesRead = 0;
    for await (const page of demo.listMessages({ unread: true, receivedAfter: since, top: 3 })) {
      pagesRead++;
      for (const m of page.messages) {
        expect(m.isRead).toBe(false);
        expect(new Date(m.receivedDateTime!).getTime()).toBeGreaterThanOrEqual(since.getTime());
      }
      break;
    }
    expect(pagesRead).toBe(1);
  });

  it('gets a message with its body and streams an attachment', async () => {
    const demo = client().credential('demo');
    const bytes = randomBytes(50_000);
    await demo.sendMail({
      to: [{ address: megan, name: 'Megan' }],
      subject: 'client attachment round trip',
      body: '<p>see the file</p>',
      contentType: 'html',
      attachments: [{ name: 'data.bin', content: bytes }],
    });
    const mail = await received('client attachment round trip');
    const inbox = client().credential('megan');
    const full = await inbox.getMessage(mail.id, { bodyFormat: 'text' });
    expect(full.body).toMatchObject({
      contentType: 'text',
      content: expect.stringContaining('see the file'),
    });
    const [attachment] = await inbox.listAttachments(mail.id);
    expect(attachment).toMatchObject({ name: 'data.bin', size: bytes.length });
    const download = await inbox.downloadAttachment(mail.id, attachment!.id);
    expect(download.fileName).toBe('data.bin');
    expect((await bytesOf(download.stream)).equals(bytes)).toBe(true);
  });
});

describe('sending', () => {
  it('streams large file and stream attachments as multipart; the bytes arrive whole', async () => {
    const demo = client().credential('demo');
    const big = randomBytes(5 * MiB);
    const file = path.join(tmpdir(), `omf-client-${process.pid}.bin`);
    await writeFile(file, big);
    const streamed = randomBytes(700_000);
    const result = await demo.sendMail({
      to: megan,
      subject: 'client large attachments',
      body: 'two files',
      attachments: [
        { path: file, contentType: 'application/octet-stream' },
        { name: 'streamed.bin', stream: new Blob([streamed]).stream() },
      ],
    });
    await rm(file);
    expect(result.status).toBe('sent');
    const sizes = stack.sandbox.control
      .requestLog()
      .filter((e) => e.method === 'POST' && /createUploadSession$/i.test(e.path));
    expect(sizes.length).toBeGreaterThanOrEqual(1);
    const mail = await received('client large attachments');
    const inbox = client().credential('megan');
    const attachments = await inbox.listAttachments(mail.id);
    expect(attachments.map((a) => [a.name, a.size]).sort()).toEqual(
      [
        [path.basename(file), big.length],
        ['streamed.bin', streamed.length],
      ].sort(),
    );
    const bigOne = attachments.find((a) => a.size === big.length)!;
    const download = await inbox.downloadAttachment(mail.id, bigOne.id);
    expect((await bytesOf(download.stream)).equals(big)).toBe(true);
  });

  it("declares the files' sizes in the message part when every size is known", async () => {
    const messagePart = async (attachments: AttachmentSource[]) => {
      const body = (await sendBody({ to: megan, subject: 'sizes', attachments })).body();
      const reader = (body as ReadableStream<Uint8Array>).getReader();
      const first = await reader.read();
      await reader.cancel();
      const text = Buffer.from(first.value!).toString('utf8');
      return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4, -2)) as Record<string, unknown>;
    };
    const big = randomBytes(4 * MiB);
    const known = await messagePart([
      { name: 'a.bin', content: big },
      { name: 's.bin', stream: new Blob([big]).stream(), size: big.length },
    ]);
    expect(known.fileSizes).toEqual({ file0: big.length, file1: big.length });
    const unknown = await messagePart([
      { name: 'a.bin', content: big },
      { name: 's.bin', stream: new Blob([big]).stream() },
    ]);
    expect(unknown.fileSizes).toBeUndefined();
  });

  it('sends once per Idempotency-Key: the repeat answers the first result', async () => {
    const demo = client().credential('demo');
    const message = { to: megan, subject: `once ${Date.now()}`, body: 'x' };
    const first = await demo.sendMail(message, { idempotencyKey: 'client-once-1' });
    const again = await demo.sendMail(message, { idempotencyKey: 'client-once-1' });
    expect(again).toEqual(first);
    expect(await sentCopies(stack.sandbox, adele, message.subject)).toHaveLength(1);
    const other = await demo
      .sendMail({ ...message, body: 'y' }, { idempotencyKey: 'client-once-1' })
      .catch((e: unknown) => e);
    expect(isMailApiError(other, 'idempotency_conflict')).toBe(true);
  });
});

describe('acting on mail, folders, templates and subscriptions', () => {
  it('marks, moves, copies, deletes and batches through the facade', async () => {
    const inbox = client().credential('megan');
    const folder = await inbox.createFolder({ displayName: `client ${Date.now()}` });
    const [first, second] = (await inbox.listMessages({ folder: 'inbox', top: 2 }).next()).value!
      .messages;
    const marked = await inbox.updateMessage(first!.id, { isRead: false, categories: ['Blue'] });
    expect(marked).toMatchObject({ id: first!.id });
    expect((await inbox.getMessage(first!.id)).isRead).toBe(false);

    const moved = await inbox.moveMessage(first!.id, { destination: folder.displayName });
    expect(moved).toMatchObject({ id: first!.id, folderId: folder.id, idType: 'immutable' });
    const copy = await inbox.copyMessage(second!.id, { destination: folder.id });
    expect(copy.id).not.toBe(second!.id);

    const batch = await inbox.batch({ action: 'markRead', messageIds: [first!.id, copy.id] });
    expect(batch).toMatchObject({ done: 2, failed: 0 });
    await inbox.deleteMessage(copy.id, { permanent: true });
    await expect(inbox.getMessage(copy.id)).rejects.toMatchObject({ code: 'not_found' });

    const renamed = await inbox.updateFolder(folder.id, { displayName: `${folder.displayName} b` });
    expect(renamed.displayName).toBe(`${folder.displayName} b`);
    await inbox.moveMessage(first!.id, { destination: 'inbox' });
    await inbox.deleteFolder(folder.id);
    const names = (await inbox.listFolders()).map((f) => f.displayName);
    expect(names).not.toContain(renamed.displayName);
  });

  it('replies, forwards and drafts in the conversation, a large file streamed, once per key', async () => {
    const demo = client().credential('demo');
    const subject = `question ${Date.now()}`;
    await client().credential('megan').sendMail({ to: adele, subject, body: 'Does it work?' });
    const [original] = (await demo.listMessages({ folder: 'inbox', subject, top: 1 }).next()).value!
      .messages;
    const big = randomBytes(4 * MiB);
    const reply = await demo.reply(
      original!.id,
      { body: 'It does: logs attached.', attachments: [{ name: 'logs.bin', content: big }] },
      { idempotencyKey: `client-reply-${subject}` },
    );
    const again = await demo.reply(
      original!.id,
      { body: 'It does: logs attached.', attachments: [{ name: 'logs.bin', content: big }] },
      { idempotencyKey: `client-reply-${subject}` },
    );
    expect(again).toEqual(reply);
    const answer = await received(`RE: ${subject}`);
    expect(answer.conversationId).toBe(original!.conversationId);
    expect((await demo.listAttachments(reply.messageId!)).map((a) => a.size)).toEqual([4 * MiB]);

    const forward = await demo.forward(original!.id, { to: [megan], body: 'FYI' });
    expect(forward.status).toBe('sent');
    expect((await received(`FW: ${subject}`)).conversationId).toBe(original!.conversationId);

    const draft = await demo.drafts.create({ replyTo: original!.id, body: 'Draft answer' });
    expect(draft).toMatchObject({ isDraft: true, subject: `RE: ${subject}` });
    const edited = await demo.drafts.update(draft.id, { cc: [megan] });
    expect(edited.ccRecipients?.map((r) => r.address)).toEqual([megan]);
    expect((await demo.drafts.get(draft.id)).id).toBe(draft.id);
    const sentDraft = await demo.drafts.send(draft.id);
    expect(sentDraft.status).toBe('sent');
    await expect(demo.drafts.delete(draft.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('templates, a bulk job and the changes feed answer through the same client', async () => {
    const mail = client();
    const template = await mail.templates.create({
      name: 'Welcome',
      subject: 'Hi {{name}}',
      body: 'Hello {{name}}',
      contentType: 'text',
    });
    const preview = await mail.templates.preview(template.templateId, {
      variables: { name: 'Ann' },
    });
    expect(preview).toMatchObject({ subject: 'Hi Ann', body: 'Hello Ann' });
    const job = await mail.credential('demo').bulkSends.create({
      templateId: template.templateId,
      recipients: [{ to: megan, variables: { name: 'Meg' } }],
    });
    const status = await mail.credential('demo').bulkSends.get(job.jobId);
    expect(['queued', 'running', 'completed']).toContain(status.status);
    const changes = await mail.credential('demo').changes({ folder: 'inbox' });
    expect(changes).toMatchObject({ events: [], nextCursor: expect.any(String) });
    expect(await mail.credential('demo').subscriptions.list()).toMatchObject({ subscriptions: [] });
  });
});

describe('errors', () => {
  it('are one MailApiError with the problem code, status, requestId and errors[]', async () => {
    const demo = client().credential('demo');
    const invalid = await demo
      .sendMail({ to: 'not-an-address', subject: 's' })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(MailApiError);
    const error = invalid as MailApiError;
    expect(error).toMatchObject({ name: 'MailApiError', status: 400, code: 'validation_failed' });
    expect(error.requestId).toEqual(expect.any(String));
    expect(error.errors.map((e) => e.path)).toContain('to[0]');

    const theirs = await client('other')
      .credential('demo')
      .get()
      .catch((e: unknown) => e);
    expect(theirs).toMatchObject({ status: 404, code: 'not_found' });
    const stranger = await createMailClient({ baseUrl: `${stack.host.url}/api`, apiKey: 'nope' })
      .listCredentials()
      .catch((e: unknown) => e);
    expect(stranger).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('takes a bearer token from getToken on each request', async () => {
    const tokens: string[] = [];
    const viaToken = createMailClient({
      baseUrl: `${stack.host.url}/api`,
      getToken: () => {
        tokens.push('asked');
        return 'not-a-jwt';
      },
    });
    await expect(viaToken.listCredentials()).rejects.toMatchObject({ status: 401 });
    expect(tokens).toEqual(['asked']);
  });
});
