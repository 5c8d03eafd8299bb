import { beforeEach, describe, expect, it } from 'vitest';

import { InvalidCursorError, NotFoundError } from '../../src/core/errors';
import { createCursorCodec } from '../../src/graph/cursor';
import {
  createMessageReader,
  type ListMessagesQuery,
  MESSAGE_FIELDS,
  messageCursorSchema,
  type MessageFilters,
  type MessageReader,
} from '../../src/graph/messages';
import { type MessageInfo } from '../../src/local/sandbox';
import { startTestSandbox } from '../support/sandbox';
import { readOptions, sandboxGraph } from '../support/graph-read';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';
const key = { serviceId: 'svc', credentialId: ADELE };
const HOSTILE = "x' or isRead eq true or subject eq '";

describe('message reader against the sandbox', () => {
  let reader: MessageReader;
  let inbox: MessageInfo[];
  let edge: MessageInfo;

  const sandbox = useStack(
    () => startTestSandbox(),
    () => {
      // A message exactly on a boundary, with a quote in the subject and an attachment.
      edge = sandbox.control.addMessage(ADELE, 'inbox', {
        subject: "Dana's quarterly numbers",
        from: { emailAddress: { name: "Dana O'Hara", address: "dana.o'hara@fabrikam.example" } },
        toRecipients: [{ emailAddress: { address: ADELE } }],
        body: { contentType: 'html', content: '<p>Numbers <b>attached</b>.</p>' },
        receivedDateTime: '2026-01-15T10:00:00Z',
        isRead: false,
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'q.csv',
            contentType: 'text/csv',
            contentBytes: Buffer.from('a,b\n1,2\n').toString('base64'),
          },
        ],
      });
      inbox = sandbox.control.messages(ADELE, 'inbox');
      reader = createMessageReader({
        graph: sandboxGraph(sandbox),
        cursors: createCursorCodec({
          key: () => Promise.resolve(Buffer.alloc(32, 1)),
          schema: messageCursorSchema,
        }),
      });
    },
  );
  beforeEach(() => sandbox.control.clearRequestLog());

  const list = (filters: MessageFilters, extra: Partial<ListMessagesQuery> = {}) =>
    reader.list(
      key,
      {
        folder: 'inbox',
        top: 1000,
        fields: MESSAGE_FIELDS,
        filters,
        ...extra,
      } as ListMessagesQuery,
      readOptions(),
    );
  const ids = (messages: Array<{ id: string }>) => messages.map((m) => m.id);
  const expectIds = (predicate: (m: MessageInfo) => boolean) =>
    inbox.filter(predicate).map((m) => m.immutableId);

  it('returns our message shape with immutable ids, newest first', async () => {
    const page = await list({});
    expect(ids(page.messages)).toEqual(inbox.map((m) => m.immutableId));
    expect(page.nextCursor).toBeNull();
    const ours = page.messages.find((m) => m.id === edge.immutableId)!;
    expect(ours).toEqual({
      id: edge.immutableId,
      internetMessageId: edge.internetMessageId,
      conversationId: edge.conversationId,
      subject: "Dana's quarterly numbers",
      from: { name: "Dana O'Hara", address: "dana.o'hara@fabrikam.example" },
      toRecipients: [{ name: ADELE, address: ADELE }],
      ccRecipients: [],
      receivedDateTime: '2026-01-15T10:00:00Z',
      sentDateTime: '2026-01-15T10:00:00Z',
      isRead: false,
      hasAttachments: true,
      importance: 'normal',
      bodyPreview: 'Numbers attached.',
      parentFolderId: edge.parentFolderId,
    });
    const request = sandbox.control.requestLog()[0]!;
    const query = new URLSearchParams(request.query);
    expect(query.get('$select')).toBe(MESSAGE_FIELDS.join(','));
    expect(query.get('$orderby')).toBe('receivedDateTime desc');
    expect(query.get('$top')).toBe('1000');
    expect(request.headersPresent).toContain('prefer');
  });

  it('filters unread and read', async () => {
    expect(ids((await list({ unread: true })).messages)).toEqual(expectIds((m) => !m.isRead));
    expect(ids((await list({ unread: false })).messages)).toEqual(expectIds((m) => !!m.isRead));
  });

  it('filters by sender address, quotes included', async () => {
    expect(ids((await list({ from: "dana.o'hara@fabrikam.example" })).messages)).toEqual([
      edge.immutableId,
    ]);
    const sender = 'danas@fabrikam.example';
    expect(ids((await list({ from: sender })).messages)).toEqual(
      expectIds(
        (m) =>
          (m.from as { emailAddress: { address: string } } | undefined)?.emailAddress.address ===
          sender,
      ),
    );
  });

  it('treats receivedAfter as inclusive and receivedBefore as exclusive', async () => {
    const at = new Date('2026-01-15T10:00:00Z');
    const after = await list({ receivedAfter: at, receivedBefore: new Date(at.getTime() + 1000) });
    expect(ids(after.messages)).toEqual([edge.immutableId]);
    const before = await list({ receivedBefore: at, receivedAfter: new Date(at.getTime() - 1000) });
    expect(ids(before.messages)).toEqual([]);
    const recent = new Date(Date.now() - 30 * 86_400_000);
    expect(ids((await list({ receivedAfter: recent })).messages)).toEqual(
      expectIds((m) => Date.parse(m.receivedDateTime as string) >= recent.getTime()),
    );
  });

  it('filters by attachments and by subject text; hostile text matches nothing', async () => {
    expect(ids((await list({ hasAttachments: true })).messages)).toEqual(
      expectIds((m) => m.hasAttachments === true),
    );
    expect(ids((await list({ subject: "Dana's" })).messages)).toEqual([edge.immutableId]);
    expect(ids((await list({ subject: 'budget' })).messages)).toEqual(
      expectIds((m) => (m.subject as string).toLowerCase().includes('budget')),
    );
    // Were the quote not escaped, this would match every read message.
    expect((await list({ subject: HOSTILE })).messages).toEqual([]);
    expect((await list({ subject: HOSTILE, unread: false })).messages).toEqual([]);
  });

  it('combines filters with the orderby property leading the filter', async () => {
    const page = await list({ unread: true, hasAttachments: true });
    expect(ids(page.messages)).toEqual(expectIds((m) => !m.isRead && m.hasAttachments === true));
    const filter = new URLSearchParams(sandbox.control.requestLog()[0]!.query).get('$filter')!;
    expect(filter.startsWith('receivedDateTime ge 1900-01-01T00:00:00Z and ')).toBe(true);
  });

  it('pages with cursors to the last page, re-sending the body format', async () => {
    const seen: string[] = [];
    let page = await list({}, { top: 7, body: 'text', fields: ['subject'] });
    let pages = 1;
    seen.push(...ids(page.messages));
    for (const m of page.messages) expect(Object.keys(m).sort()).toEqual(['body', 'id', 'subject']);
    while (page.nextCursor) {
      page = await reader.resume(key, page.nextCursor, readOptions());
      pages++;
      seen.push(...ids(page.messages));
      for (const m of page.messages) expect(m.body?.contentType).toBe('text');
    }
    expect(seen).toEqual(inbox.map((m) => m.immutableId));
    expect(pages).toBe(Math.ceil(inbox.length / 7));
    for (const entry of sandbox.control.requestLog())
      expect(entry.headersPresent).toContain('prefer');
  });

  it('refuses a cursor issued to another credential or mailbox before calling Graph', async () => {
    const page = await list({}, { top: 5 });
    sandbox.control.clearRequestLog();
    await expect(
      reader.resume({ ...key, serviceId: 'other' }, page.nextCursor!, readOptions()),
    ).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(
      reader.resume(key, page.nextCursor!, readOptions(20_000, 'support@contoso.test')),
    ).rejects.toBeInstanceOf(InvalidCursorError);
    expect(sandbox.control.requestLog()).toEqual([]);
  });

  it('searches with a KQL phrase and no $filter or $orderby', async () => {
    const page = await reader.list(
      key,
      { folder: 'inbox', top: 100, fields: ['subject'], search: 'quarterly numbers' },
      readOptions(),
    );
    expect(ids(page.messages)).toEqual([edge.immutableId]);
    const query = new URLSearchParams(sandbox.control.requestLog()[0]!.query);
    expect(query.get('$search')).toBe('"\\"quarterly numbers\\""');
    expect(query.has('$filter')).toBe(false);
    expect(query.has('$orderby')).toBe(false);
  });

  it('reads the whole mailbox when no folder is given', async () => {
    const page = await reader.list(
      key,
      { top: 1000, fields: ['parentFolderId'], filters: {} },
      readOptions(),
    );
    expect(sandbox.control.requestLog()[0]!.path).toBe('/v1.0/me/messages');
    const folders = new Set(page.messages.map((m) => m.parentFolderId));
    expect(folders.size).toBeGreaterThan(3);
  });

  it('gets one message with its body in either format, and NotFound for an unknown id', async () => {
    const html = await reader.get(key, edge.immutableId, { ...readOptions(), body: 'html' });
    expect(html.body?.contentType).toBe('html');
    expect(html.body?.content).toContain('<b>attached</b>');
    const text = await reader.get(key, edge.immutableId, { ...readOptions(), body: 'text' });
    expect(text.body).toEqual({
      contentType: 'text',
      content: expect.stringContaining('Numbers attached.'),
    });
    await expect(
      reader.get(key, 'AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0ANOTTHERE', {
        ...readOptions(),
        body: 'html',
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
