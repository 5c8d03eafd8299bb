import { describe, expect, it, vi } from 'vitest';
import { call, token, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

const MB = 1024 * 1024;

describe('Graph writes, attachments and upload sessions', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 20 }),
    async () => {
      tok = await token(sb);
    },
  );

  const draft = async (extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> => {
    const r = await call(sb, tok, 'POST', '/v1.0/me/messages', {
      body: {
        subject: 'Draft',
        body: { contentType: 'HTML', content: 'They were <b>awesome</b>!' },
        toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
        ...extra,
      },
    });
    expect(r.status).toBe(201);
    return r.json;
  };

  it('creates, patches and deletes drafts', async () => {
    const d = await draft({ importance: 'Low' });
    expect(d).toMatchObject({ isDraft: true, importance: 'low', body: { contentType: 'html' } });
    expect((d.body as { content: string }).content).toContain('<html>');
    expect(d.parentFolderId).toBe(
      sb.control.folders('adele@contoso.test').find((f) => f.wellKnownName === 'drafts')!.id,
    );
    const patched = await call(sb, tok, 'PATCH', `/v1.0/me/messages/${d.id as string}`, {
      body: {
        subject: 'Changed',
        ccRecipients: [{ emailAddress: { address: 'x@fabrikam.example' } }],
      },
    });
    expect(patched.json).toMatchObject({
      subject: 'Changed',
      ccRecipients: [{ emailAddress: { address: 'x@fabrikam.example' } }],
    });
    expect(patched.json.changeKey).not.toBe(d.changeKey);
    expect(
      (await call(sb, tok, 'POST', '/v1.0/me/messages', { body: { subjekt: 'typo' } })).json,
    ).toMatchObject({ error: { code: 'RequestBodyRead' } });
    const received = sb.control.messages('adele@contoso.test', 'inbox')[0]!;
    expect(
      (
        await call(sb, tok, 'PATCH', `/v1.0/me/messages/${received.id}`, {
          body: { isRead: true, categories: ['Red'] },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await call(sb, tok, 'PATCH', `/v1.0/me/messages/${received.id}`, {
          body: { subject: 'rewritten' },
        })
      ).status,
    ).toBe(400);
    expect((await call(sb, tok, 'DELETE', `/v1.0/me/messages/${d.id as string}`)).status).toBe(204);
    expect((await call(sb, tok, 'GET', `/v1.0/me/messages/${d.id as string}`)).status).toBe(404);
    const readOnly = await token(sb, 'adele@contoso.test', 'Mail.Read');
    expect(
      (await call(sb, readOnly, 'POST', '/v1.0/me/messages', { body: { subject: 'x' } })).status,
    ).toBe(403);
  });

  it('enforces the internetMessageHeaders rules', async () => {
    const h = (n: number, prefix = 'x-') =>
      Array.from({ length: n }, (_, i) => ({ name: `${prefix}h${i}`, value: 'v' }));
    expect(
      (await call(sb, tok, 'POST', '/v1.0/me/messages', { body: { internetMessageHeaders: h(5) } }))
        .status,
    ).toBe(201);
    expect(
      (await call(sb, tok, 'POST', '/v1.0/me/messages', { body: { internetMessageHeaders: h(6) } }))
        .status,
    ).toBe(400);
    expect(
      (await call(sb, tok, 'POST', '/v1.0/me/messages', { body: { internetMessageHeaders: [] } }))
        .status,
    ).toBe(400);
    const bad = await call(sb, tok, 'POST', '/v1.0/me/messages', {
      body: { internetMessageHeaders: [{ name: 'List-Unsubscribe', value: '<mailto:x>' }] },
    });
    expect(bad.json).toMatchObject({ error: { code: 'InvalidInternetMessageHeader' } });
    const ok = await draft({ internetMessageHeaders: [{ name: 'X-Correlation', value: 'abc' }] });
    expect(ok.internetMessageHeaders).toBeUndefined();
    const selected = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${ok.id as string}?$select=internetMessageHeaders`,
    );
    expect(selected.json.internetMessageHeaders).toEqual([{ name: 'X-Correlation', value: 'abc' }]);
  });

  it('adds inline attachments under 3 MB and refuses request bodies over 4 MB with 413', async () => {
    const d = await draft();
    const small = await call(sb, tok, 'POST', `/v1.0/me/messages/${d.id as string}/attachments`, {
      body: {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: 'hello.txt',
        contentBytes: Buffer.from('Hello').toString('base64'),
      },
    });
    expect(small.status).toBe(201);
    expect(small.json).toMatchObject({
      name: 'hello.txt',
      contentType: 'text/plain',
      size: 5,
      isInline: false,
    });
    const item = await call(sb, tok, 'POST', `/v1.0/me/messages/${d.id as string}/attachments`, {
      body: {
        '@odata.type': '#microsoft.graph.itemAttachment',
        name: 'Holiday event',
        item: { '@odata.type': 'microsoft.graph.event', subject: 'Gifts' },
      },
    });
    expect(item.status).toBe(201);
    const mime = await fetch(
      `${sb.url}/v1.0/me/messages/${d.id as string}/attachments/${item.json.id as string}/$value`,
      { headers: { Authorization: `Bearer ${tok}` } },
    );
    expect(mime.headers.get('content-type')).toBe('message/rfc822');
    expect(await mime.text()).toContain('Subject: Gifts');
    const big = Buffer.alloc(3 * MB + 10, 1).toString('base64');
    const tooBig = await call(sb, tok, 'POST', `/v1.0/me/messages/${d.id as string}/attachments`, {
      body: {
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: 'big.bin',
        contentBytes: big,
      },
    });
    expect(tooBig.status).toBe(413);
    const got = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${d.id as string}?$select=hasAttachments`,
    );
    expect(got.json.hasAttachments).toBe(true);
  });

  it('runs the upload-session protocol exactly as documented', async () => {
    const d = await draft();
    const size = 5 * MB + 123;
    const file = Buffer.alloc(size);
    for (let i = 0; i < size; i++) file[i] = i % 251;
    const tooSmall = await call(
      sb,
      tok,
      'POST',
      `/v1.0/me/messages/${d.id as string}/attachments/createUploadSession`,
      { body: { AttachmentItem: { attachmentType: 'file', name: 'x', size: 1000 } } },
    );
    expect(tooSmall.json).toMatchObject({
      error: { code: 'ErrorAttachmentSizeShouldNotBeLessThanMinimumSize' },
    });
    expect(
      (
        await call(
          sb,
          tok,
          'POST',
          `/v1.0/me/messages/${d.id as string}/attachments/createUploadSession`,
          { body: { AttachmentItem: { attachmentType: 'file', name: 'x', size: 151 * MB } } },
        )
      ).status,
    ).toBe(400);
    const session = await call(
      sb,
      tok,
      'POST',
      `/v1.0/me/messages/${d.id as string}/attachments/createUploadSession`,
      { body: { AttachmentItem: { attachmentType: 'file', name: 'flower.jpg', size } } },
    );
    expect(session.status).toBe(201);
    expect(session.json.nextExpectedRanges).toEqual(['0-']);
    const uploadUrl = session.json.uploadUrl as string;
    expect(uploadUrl.startsWith(`${sb.url}/api/v2.0/Users('`)).toBe(true);
    expect(new URL(uploadUrl).searchParams.get('authtoken')).toBeTruthy();
    expect(new URL(uploadUrl).pathname.startsWith('/v1.0')).toBe(false);
    const put = (
      start: number,
      end: number,
      body = file.subarray(start, end + 1),
      headers: Record<string, string> = {},
    ) =>
      fetch(uploadUrl, {
        method: 'PUT',
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Range': `bytes ${start}-${end}/${size}`,
          ...headers,
        },
        body: Uint8Array.from(body),
      });
    const chunk = 2 * MB;
    // Out of order → 416; over 4 MB → 413; wrong total → 400.
    expect((await put(chunk, size - 1)).status).toBe(416);
    expect((await put(0, size - 1)).status).toBe(413);
    expect(
      (
        await fetch(uploadUrl, {
          method: 'PUT',
          headers: { 'Content-Range': `bytes 0-9/${size + 1}` },
          body: Uint8Array.from(file.subarray(0, 10)),
        })
      ).status,
    ).toBe(400);
    const first = await put(0, chunk - 1);
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as Record<string, unknown>;
    expect(Object.keys(firstBody).sort()).toEqual([
      '@odata.context',
      'ExpirationDateTime',
      'nextExpectedRanges',
    ]);
    expect(firstBody.nextExpectedRanges).toEqual([String(chunk)]);
    // The upload URL is pre-authenticated: like the Outlook upload host it refuses an Authorization
    // header (PUT or DELETE) with 401 and changes nothing, so the session goes on without one.
    const withAuth = await put(chunk, size - 1, undefined, { Authorization: `Bearer ${tok}` });
    expect(withAuth.status).toBe(401);
    expect(((await withAuth.json()) as { error: { code: string } }).error.code).toBe(
      'InvalidAuthenticationToken',
    );
    const cancelWithAuth = await fetch(uploadUrl, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${tok}` },
    });
    expect(cancelWithAuth.status).toBe(401);
    const last = await put(chunk, size - 1);
    expect(last.status).toBe(201);
    expect(await last.text()).toBe('');
    const location = last.headers.get('location')!;
    const attachmentId = /\/Attachments\('([^']+)'\)$/.exec(location)![1]!;
    const meta = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${d.id as string}/attachments/${attachmentId}?$select=name,size,contentType,isInline`,
    );
    expect(meta.json).toMatchObject({ name: 'flower.jpg', size, isInline: false });
    const bytes = Buffer.from(
      await (
        await fetch(
          `${sb.url}/v1.0/me/messages/${d.id as string}/attachments/${attachmentId}/$value`,
          { headers: { Authorization: `Bearer ${tok}` } },
        )
      ).arrayBuffer(),
    );
    expect(bytes.equals(file)).toBe(true);
    expect((await put(0, 9, file.subarray(0, 10))).status).toBe(404); // session is finished
  });

  it('cancels upload sessions with DELETE and honours their expiry', async () => {
    const d = await draft();
    const create = () =>
      call(sb, tok, 'POST', `/v1.0/me/messages/${d.id as string}/attachments/createUploadSession`, {
        body: { AttachmentItem: { attachmentType: 'file', name: 'a.bin', size: 3 * MB } },
      });
    const firstByte = async (uploadUrl: string) =>
      (
        await fetch(uploadUrl, {
          method: 'PUT',
          headers: { 'Content-Range': 'bytes 0-0/3145728' },
          body: 'x',
        })
      ).status;
    const url = (await create()).json.uploadUrl as string;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    expect(await firstByte(url)).toBe(404);
    sb.control.setLimits({ uploadSessionLifetimeSeconds: 0 });
    // The sandbox's clock, moved past the zero lifetime instead of waiting for it to pass.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now(), shouldAdvanceTime: true });
    try {
      const expiring = (await create()).json.uploadUrl as string;
      sb.control.setLimits({ uploadSessionLifetimeSeconds: 900 });
      vi.setSystemTime(Date.now() + 5);
      expect(await firstByte(expiring)).toBe(404);
    } finally {
      vi.useRealTimers();
    }
    const forged = url.replace(/authtoken=[^&]+/, 'authtoken=forged');
    expect((await fetch(forged, { method: 'DELETE' })).status).toBeGreaterThanOrEqual(400);
    const sharedDraft = await call(sb, tok, 'POST', '/v1.0/users/support@contoso.test/messages', {
      body: { subject: 's' },
    });
    expect(
      (
        await call(
          sb,
          tok,
          'POST',
          `/v1.0/users/support@contoso.test/messages/${sharedDraft.json.id as string}/attachments/createUploadSession`,
          { body: { AttachmentItem: { attachmentType: 'file', name: 'a', size: 3 * MB } } },
        )
      ).status,
    ).toBe(403);
  });
});

describe('sending', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 10 }),
    async () => {
      tok = await token(sb);
    },
  );

  const inboxSubjects = (upn: string) => sb.control.messages(upn, 'inbox').map((m) => m.subject);

  it('sends a draft: 202, Sent Items, delivered; the immutable id finds the sent copy', async () => {
    const d = await call(sb, tok, 'POST', '/v1.0/me/messages', {
      body: {
        subject: 'Draft to send',
        toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
        internetMessageHeaders: [{ name: 'x-job', value: '42' }],
      },
      headers: { Prefer: 'IdType="ImmutableId"' },
    });
    const sent = await call(sb, tok, 'POST', `/v1.0/me/messages/${d.json.id as string}/send`);
    expect(sent.status).toBe(202);
    expect(sent.text).toBe('');
    // The copy "may take time" to appear in Sent Items after the 202.
    await vi.waitFor(() =>
      expect(sb.control.sentItems('adele@contoso.test').map((m) => m.subject)).toContain(
        'Draft to send',
      ),
    );
    const copy = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${d.json.id as string}?$select=isDraft,parentFolderId,sentDateTime,from`,
      { headers: { Prefer: 'IdType="ImmutableId"' } },
    );
    expect(copy.json).toMatchObject({
      isDraft: false,
      from: { emailAddress: { address: 'adele@contoso.test' } },
    });
    expect(copy.json.parentFolderId).toBe(
      sb.control.folders('adele@contoso.test').find((f) => f.wellKnownName === 'sentitems')!.id,
    );
    const delivered = sb.control
      .messages('megan@contoso.test', 'inbox')
      .find((m) => m.subject === 'Draft to send')!;
    expect(delivered).toMatchObject({
      isRead: false,
      from: { emailAddress: { address: 'adele@contoso.test' } },
    });
    expect(delivered.internetMessageHeaders).toEqual([{ name: 'x-job', value: '42' }]);
    expect(
      (await call(sb, tok, 'POST', `/v1.0/me/messages/${d.json.id as string}/send`)).status,
    ).toBe(400);
  });

  it('sendMail honours saveToSentItems (default true, docs string "false", OpenAPI casing)', async () => {
    const msg = (subject: string) => ({
      subject,
      body: { contentType: 'Text', content: 'hi' },
      toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
    });
    expect(
      (await call(sb, tok, 'POST', '/v1.0/me/sendMail', { body: { message: msg('saved') } }))
        .status,
    ).toBe(202);
    expect(
      (
        await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
          body: { message: msg('not saved'), saveToSentItems: 'false' },
        })
      ).status,
    ).toBe(202);
    expect(
      (
        await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
          body: { Message: msg('pascal'), SaveToSentItems: false },
        })
      ).status,
    ).toBe(202);
    await vi.waitFor(() =>
      expect(sb.control.sentItems('adele@contoso.test').map((m) => m.subject)).toContain('saved'),
    );
    const sent = sb.control.sentItems('adele@contoso.test').map((m) => m.subject);
    expect(sent).not.toContain('not saved');
    expect(sent).not.toContain('pascal');
    expect(inboxSubjects('megan@contoso.test')).toEqual(
      expect.arrayContaining(['saved', 'not saved', 'pascal']),
    );
    const flat = await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
      body: { subject: 'flat', toRecipients: [] },
    });
    expect(flat.status).toBe(400);
    expect(
      (
        await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
          body: { message: { subject: 'nobody' } },
        })
      ).json,
    ).toMatchObject({ error: { code: 'ErrorInvalidRecipients' } });
    const noSend = await token(sb, 'adele@contoso.test', 'Mail.ReadWrite');
    expect(
      (await call(sb, noSend, 'POST', '/v1.0/me/sendMail', { body: { message: msg('x') } })).status,
    ).toBe(403);
  });

  it('returns proxyAddresses only when $select names them, primary SMTP: first', async () => {
    const plain = await call(sb, tok, 'GET', '/v1.0/me');
    expect(plain.json).not.toHaveProperty('proxyAddresses');
    const selected = await call(sb, tok, 'GET', '/v1.0/me?$select=mail,proxyAddresses');
    expect(selected.json).toMatchObject({
      mail: 'adele@contoso.test',
      proxyAddresses: [
        'SMTP:adele@contoso.test',
        'smtp:Adele.Vance@contoso.test',
        'smtp:sales@contoso.test',
      ],
    });
  });

  it('sends from an alias only where the tenant enabled SendFromAliasEnabled', async () => {
    const fromAlias = (subject: string, address: string) => ({
      message: {
        subject,
        toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
        from: { emailAddress: { address } },
      },
    });
    expect(sb.control.setTenant({})).toEqual({ sendFromAliasEnabled: false });
    const denied = await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
      body: fromAlias('alias denied', 'sales@contoso.test'),
    });
    expect(denied.status).toBe(403);
    expect(denied.json).toMatchObject({ error: { code: 'ErrorSendAsDenied' } });
    sb.control.setTenant({ sendFromAliasEnabled: true });
    try {
      const sent = await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
        body: fromAlias('alias allowed', 'SALES@contoso.test'),
      });
      expect(sent.status).toBe(202);
      const [delivered] = sb.control
        .messages('megan@contoso.test', 'inbox')
        .filter((m) => m.subject === 'alias allowed');
      expect(delivered).toMatchObject({
        from: { emailAddress: { address: 'SALES@contoso.test', name: 'Adele Vance' } },
        sender: { emailAddress: { address: 'SALES@contoso.test' } },
      });
      // Another user's alias is never the caller's to send from, whatever the tenant allows.
      const other = await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
        body: fromAlias('not mine', 'megan.bowen@contoso.test'),
      });
      expect(other.json).toMatchObject({ error: { code: 'ErrorSendAsDenied' } });
      // Mail to an alias reaches the mailbox that owns it.
      await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
        body: {
          message: {
            subject: 'to an alias',
            toRecipients: [{ emailAddress: { address: 'megan.bowen@contoso.test' } }],
          },
        },
      });
      expect(
        sb.control.messages('megan@contoso.test', 'inbox').some((m) => m.subject === 'to an alias'),
      ).toBe(true);
    } finally {
      sb.control.setTenant({ sendFromAliasEnabled: false });
    }
  });

  it('sends as another mailbox only with a grant (ErrorSendAsDenied otherwise)', async () => {
    const body = (from: string) => ({
      message: {
        subject: `from ${from}`,
        toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
        from: { emailAddress: { address: from } },
      },
    });
    expect(
      (await call(sb, tok, 'POST', '/v1.0/me/sendMail', { body: body('support@contoso.test') }))
        .status,
    ).toBe(202);
    const megan = await token(sb, 'megan@contoso.test');
    expect(
      (await call(sb, megan, 'POST', '/v1.0/me/sendMail', { body: body('support@contoso.test') }))
        .json,
    ).toMatchObject({ error: { code: 'ErrorSendAsDenied' } });
    sb.control.grantSharedAccess('megan@contoso.test', 'support@contoso.test', {
      sendOnBehalf: true,
    });
    expect(
      (await call(sb, megan, 'POST', '/v1.0/me/sendMail', { body: body('support@contoso.test') }))
        .status,
    ).toBe(202);
    const onBehalf = sb.control
      .messages('megan@contoso.test', 'inbox')
      .filter((m) => m.subject === 'from support@contoso.test');
    expect(
      onBehalf
        .map((m) => (m.sender as { emailAddress: { address: string } }).emailAddress.address)
        .sort(),
    ).toEqual(['megan@contoso.test', 'support@contoso.test']);
    // Via /users/{shared}/sendMail: Adele has Full Access + Send As → the shared mailbox's Sent Items.
    expect(
      (
        await call(sb, tok, 'POST', '/v1.0/users/support@contoso.test/sendMail', {
          body: {
            message: {
              subject: 'queue reply',
              toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
            },
          },
        })
      ).status,
    ).toBe(202);
    await vi.waitFor(() =>
      expect(sb.control.sentItems('support@contoso.test').map((m) => m.subject)).toContain(
        'queue reply',
      ),
    );
  });

  it('sends base64 MIME with Content-Type text/plain, and rejects invalid base64', async () => {
    const mime = [
      'From: Adele Vance <adele@contoso.test>',
      'To: Megan Bowen <megan@contoso.test>',
      'Subject: MIME hello',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'body text',
    ].join('\r\n');
    expect(
      (
        await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
          body: Buffer.from(mime).toString('base64'),
          headers: { 'Content-Type': 'text/plain' },
        })
      ).status,
    ).toBe(202);
    expect(inboxSubjects('megan@contoso.test')).toContain('MIME hello');
    const bad = await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
      body: 'not base64 ...',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(bad.json).toMatchObject({ error: { code: 'ErrorMimeContentInvalidBase64String' } });
  });

  it('paces sends through the Outbox (no 429) and reports too many recipients by NDR', async () => {
    const paced = await withSandbox({
      messagesPerUser: 5,
      // The Outbox here holds only what waits for the rate: copies move to Sent Items at once.
      limits: {
        messagesPerSendWindow: 2,
        sendWindowMs: 300,
        recipientsPerMessage: 3,
        sentItemsDelayMs: 0,
      },
    });
    try {
      const t = await token(paced);
      const statuses: number[] = [];
      // Hold the clock the sandbox paces by while the five go in, so a slow machine cannot
      // spread them over more send windows than the test means to.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      for (let i = 0; i < 5; i++) {
        statuses.push(
          (
            await call(paced, t, 'POST', '/v1.0/me/sendMail', {
              body: {
                message: {
                  subject: `paced ${i}`,
                  toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
                },
              },
            })
          ).status,
        );
      }
      vi.useRealTimers();
      expect(statuses).toEqual([202, 202, 202, 202, 202]);
      expect(paced.control.outbox('adele@contoso.test')).toHaveLength(3);
      await vi.waitFor(() => expect(paced.control.outbox('adele@contoso.test')).toHaveLength(0), {
        timeout: 10_000,
      });
      expect(
        paced.control
          .messages('megan@contoso.test', 'inbox')
          .filter((m) => String(m.subject).startsWith('paced')),
      ).toHaveLength(5);
      const many = ['a', 'b', 'c', 'd'].map((x) => ({
        emailAddress: { address: `${x}@contoso.test` },
      }));
      expect(
        (
          await call(paced, t, 'POST', '/v1.0/me/sendMail', {
            body: { message: { subject: 'too many', toRecipients: many } },
          })
        ).status,
      ).toBe(202);
      // The report comes when the send leaves the Outbox (at once, or at its paced slot).
      await vi.waitFor(
        () =>
          expect(
            paced.control
              .messages('adele@contoso.test', 'inbox')
              .find((m) => m.subject === 'Undeliverable: too many'),
          ).toBeDefined(),
        { timeout: 10_000 },
      );
    } finally {
      vi.useRealTimers();
      await paced.close();
    }
  });
});
