import { beforeEach, describe, expect, it } from 'vitest';

import { type MessageInfo } from '../../src/local/sandbox';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(200_000, 0x41)]);

describe('attachment routes end to end', () => {
  let message: MessageInfo;
  let attachments: Array<{
    id: string;
    name: string;
    contentType: string;
    size: number;
    isInline: boolean;
  }>;
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
  const base = () =>
    `/api/credentials/c1/messages/${encodeURIComponent(message.immutableId)}/attachments`;

  const stack = useStack(
    () => startTestStack({ storage: false }),
    async () => {
      await stack.connect('c1');
      message = stack.sandbox.control.addMessage(ADELE, 'inbox', {
        subject: 'Files',
        body: { contentType: 'text', content: 'see attached' },
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'Résumé "final"/v2.pdf',
            contentType: 'application/pdf',
            contentBytes: PDF.toString('base64'),
          },
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'logo.png',
            contentType: 'image/png',
            isInline: true,
            contentId: 'logo',
            contentBytes: Buffer.from('png-bytes').toString('base64'),
          },
          {
            '@odata.type': '#microsoft.graph.itemAttachment',
            name: 'Forwarded note',
            item: {
              '@odata.type': '#microsoft.graph.message',
              subject: 'Inner mail',
              body: { contentType: 'html', content: '<p>inner</p>' },
            },
          },
        ],
      });
    },
  );
  beforeEach(() => stack.sandbox.control.clearRequestLog());

  it('lists attachment metadata only, with $select', async () => {
    const response = await stack.api(base());
    expect(response.status).toBe(200);
    ({ attachments } = (await response.json()) as { attachments: typeof attachments });
    expect(attachments.map((a) => [a.name, a.contentType, a.isInline])).toEqual([
      ['Résumé "final"/v2.pdf', 'application/pdf', false],
      ['logo.png', 'image/png', true],
      ['Forwarded note', 'application/octet-stream', false],
    ]);
    expect(attachments[0]!.size).toBeGreaterThanOrEqual(PDF.length);
    for (const a of attachments)
      expect(Object.keys(a).sort()).toEqual(['contentType', 'id', 'isInline', 'name', 'size']);
    expect(new URLSearchParams(graphCalls()[0]!.query).get('$select')).toBe(
      'id,name,contentType,size,isInline',
    );
  });

  it('streams the bytes with type, length and a safe file name', async () => {
    const response = await stack.api(`${base()}/${encodeURIComponent(attachments[0]!.id)}/content`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="R_sum_ _final__v2.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20_final__v2.pdf`,
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(PDF)).toBe(true);
    expect(graphCalls().map((c) => c.path.split('/').at(-1))).toEqual([
      encodeURIComponent(attachments[0]!.id),
      '$value',
    ]);
  });

  it('serves an item attachment as an .eml message', async () => {
    const response = await stack.api(`${base()}/${encodeURIComponent(attachments[2]!.id)}/content`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('message/rfc822');
    expect(response.headers.get('content-disposition')).toContain('filename="Forwarded note.eml"');
    expect(await response.text()).toContain('Subject: Inner mail');
  });

  it('answers 404 for an unknown attachment or message', async () => {
    const unknownAttachment = await stack.api(`${base()}/AAMkADnothere/content`);
    expect(unknownAttachment.status).toBe(404);
    const unknownMessage = await stack.api(
      '/api/credentials/c1/messages/AAkALgnothere/attachments',
    );
    expect(unknownMessage.status).toBe(404);
  });

  it('answers 400 for malformed ids and unknown parameters, without calling Graph', async () => {
    for (const [path, field] of [
      [`${base()}/bad%3Fid/content`, 'attachmentId'],
      [`/api/credentials/c1/messages/bad%23id/attachments`, 'messageId'],
      [`${base()}?top=5`, 'query.top'],
    ] as const) {
      const response = await stack.api(path);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: Array<{ path: string }> };
      expect(body.errors.map((e) => e.path)).toContain(field);
    }
    expect(graphCalls()).toEqual([]);
  });

  it("answers 404 for another service's credential", async () => {
    expect((await stack.api(base(), { serviceId: 'other' })).status).toBe(404);
  });
});
