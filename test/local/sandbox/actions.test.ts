import { describe, expect, it, vi } from 'vitest';

import { call, token, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

const ADELE = 'adele@contoso.test';
const MEGAN = 'megan@contoso.test';

describe('sandbox: forward, copy, permanentDelete and folder writes as Graph documents them', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 0 }),
    async () => {
      tok = await token(sb);
    },
  );

  const inbound = () =>
    sb.control.addMessage(ADELE, 'inbox', {
      subject: 'Invoice 42',
      from: { emailAddress: { address: 'billing@fabrikam.test' } },
      toRecipients: [{ emailAddress: { address: ADELE } }],
      body: { contentType: 'text', content: 'Please pay.' },
      attachments: [
        {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: 'invoice.pdf',
          contentType: 'application/pdf',
          contentBytes: Buffer.from('%PDF').toString('base64'),
        },
      ],
    });
  const megan = [{ emailAddress: { address: MEGAN } }];

  it('forward sends with the original attachments, in the same conversation (202)', async () => {
    const original = inbound();
    const r = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/forward`, {
      body: { comment: 'FYI', toRecipients: megan },
    });
    expect(r.status).toBe(202);
    const delivered = sb.control
      .messages(MEGAN, 'inbox')
      .find((m) => m.subject === 'FW: Invoice 42')!;
    expect(delivered.hasAttachments).toBe(true);
    const sent = await vi.waitFor(() => {
      const copy = sb.control.sentItems(ADELE).find((m) => m.subject === 'FW: Invoice 42');
      expect(copy).toBeDefined();
      return copy!;
    });
    expect(sent.conversationId).toBe(original.conversationId);
  });

  it('forward needs recipients in exactly one place, and a comment or a body, not both', async () => {
    const original = inbound();
    const path = `/v1.0/me/messages/${original.id}/forward`;
    for (const body of [
      { comment: 'x' },
      { toRecipients: megan, message: { toRecipients: megan } },
      {
        toRecipients: megan,
        comment: 'x',
        message: { body: { contentType: 'Text', content: 'y' } },
      },
      { toRecipients: megan, note: 'x' },
    ]) {
      expect((await call(sb, tok, 'POST', path, { body })).status, JSON.stringify(body)).toBe(400);
    }
  });

  it('createForward drafts a forward (201) carrying the attachments', async () => {
    const original = inbound();
    const r = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/createForward`, {
      body: { message: { toRecipients: megan } },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      isDraft: true,
      subject: 'FW: Invoice 42',
      hasAttachments: true,
    });
  });

  it('copy answers 201 with a new message; permanentDelete 204 and the message is gone', async () => {
    const original = inbound();
    const copy = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/copy`, {
      body: { destinationId: 'archive' },
    });
    expect(copy.status).toBe(201);
    expect(copy.json.id).not.toBe(original.id);
    const purge = await call(sb, tok, 'POST', `/v1.0/me/messages/${original.id}/permanentDelete`);
    expect(purge.status).toBe(204);
    expect((await call(sb, tok, 'GET', `/v1.0/me/messages/${original.id}`)).status).toBe(404);
    const missing = await call(
      sb,
      tok,
      'POST',
      `/v1.0/me/messages/${copy.json.id as string}/copy`,
      {
        body: { destinationId: 'no-such-folder' },
      },
    );
    expect(missing.status).toBe(404);
  });

  it('PATCH of a sent message accepts importance, flag and categories but not its subject', async () => {
    const original = inbound();
    const path = `/v1.0/me/messages/${original.id}`;
    const ok = await call(sb, tok, 'PATCH', path, {
      body: { importance: 'high', categories: ['Red'], flag: { flagStatus: 'flagged' } },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ importance: 'high', categories: ['Red'] });
    const subject = await call(sb, tok, 'PATCH', path, { body: { subject: 'x' } });
    expect(subject.status).toBe(400);
  });

  it('renames, moves and deletes folders; default folders refuse, names stay unique', async () => {
    const created = await call(sb, tok, 'POST', '/v1.0/me/mailFolders', {
      body: { displayName: 'Clients' },
    });
    const id = created.json.id as string;
    const renamed = await call(sb, tok, 'PATCH', `/v1.0/me/mailFolders/${id}`, {
      body: { displayName: 'Customers' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({ id, displayName: 'Customers' });
    const moved = await call(sb, tok, 'POST', `/v1.0/me/mailFolders/${id}/move`, {
      body: { destinationId: 'inbox' },
    });
    expect(moved.status).toBe(200);
    const inbox = await call(sb, tok, 'GET', '/v1.0/me/mailFolders/inbox');
    expect(moved.json.parentFolderId).toBe(inbox.json.id);
    const taken = await call(sb, tok, 'PATCH', `/v1.0/me/mailFolders/${id}`, {
      body: { displayName: 'projects' },
    });
    expect(taken.status).toBe(409);
    const intoItself = await call(sb, tok, 'POST', `/v1.0/me/mailFolders/${id}/move`, {
      body: { destinationId: id },
    });
    expect(intoItself.status).toBe(400);
    expect((await call(sb, tok, 'DELETE', '/v1.0/me/mailFolders/inbox')).status).toBe(400);
    expect((await call(sb, tok, 'DELETE', `/v1.0/me/mailFolders/${id}`)).status).toBe(204);
    expect((await call(sb, tok, 'GET', `/v1.0/me/mailFolders/${id}`)).status).toBe(404);
  });
});
