import { describe, expect, it } from 'vitest';
import { call, token, value, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

describe('Graph reads', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 150 }),
    async () => {
      tok = await token(sb);
    },
  );

  it('validates bearer tokens like Graph (401 InvalidAuthenticationToken with request ids)', async () => {
    const missing = await call(sb, null, 'GET', '/v1.0/me/messages');
    expect(missing.status).toBe(401);
    expect(missing.json).toMatchObject({
      error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' },
    });
    expect(missing.headers.get('request-id')).toBeTruthy();
    expect(
      (missing.json.error as { innerError: Record<string, string> }).innerError['request-id'],
    ).toBe(missing.headers.get('request-id'));
    expect((await call(sb, 'garbage', 'GET', '/v1.0/me')).status).toBe(401);
    sb.control.setAccessTokenLifetime(0);
    const expired = await token(sb);
    sb.control.setAccessTokenLifetime(3599);
    const r = await call(sb, expired, 'GET', '/v1.0/me');
    expect(r.status).toBe(401);
    expect((r.json.error as { message: string }).message).toContain('expired');
  });

  it('enforces scopes and shared-mailbox grants', async () => {
    const userOnly = await token(sb, 'adele@contoso.test', 'User.Read');
    expect((await call(sb, userOnly, 'GET', '/v1.0/me')).status).toBe(200);
    const selected = await call(sb, userOnly, 'GET', '/v1.0/me?$select=mail,displayName');
    expect(Object.keys(selected.json).sort()).toEqual(['@odata.context', 'displayName', 'mail']);
    expect((await call(sb, userOnly, 'GET', '/v1.0/me/messages')).json).toMatchObject({
      error: { code: 'ErrorAccessDenied' },
    });
    const mailOnly = await token(sb, 'adele@contoso.test', 'Mail.Read');
    expect((await call(sb, mailOnly, 'GET', '/v1.0/me')).json).toMatchObject({
      error: { code: 'Authorization_RequestDenied' },
    });
    // Adele has Full Access to the support mailbox (seed), Megan has none.
    expect(
      (await call(sb, mailOnly, 'GET', '/v1.0/users/support@contoso.test/messages')).status,
    ).toBe(403);
    expect((await call(sb, tok, 'GET', '/v1.0/users/support@contoso.test/messages')).status).toBe(
      200,
    );
    const megan = await token(sb, 'megan@contoso.test');
    expect(
      (await call(sb, megan, 'GET', '/v1.0/users/support@contoso.test/mailFolders')).status,
    ).toBe(403);
    expect(
      (await call(sb, tok, 'GET', '/v1.0/users/nobody@contoso.test/messages')).json,
    ).toMatchObject({ error: { code: 'ErrorInvalidUser' } });
  });

  it('lists root folders with paging, hidden folders on request, well-known names and child folders', async () => {
    const all = await call(sb, tok, 'GET', '/v1.0/me/mailFolders');
    expect(value(all)).toHaveLength(10); // default page size
    const first = await call(sb, tok, 'GET', '/v1.0/me/mailFolders?$top=6');
    expect(first.json['@odata.nextLink']).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/v1\.0\/me\/mailFolders\?%24top=6&%24skip=6$/,
    );
    const second = await call(sb, tok, 'GET', first.json['@odata.nextLink'] as string);
    const names = [...value(first), ...value(second)].map((f) => f.displayName);
    expect(names).toEqual(value(all).map((f) => f.displayName));
    expect(names).toEqual(
      expect.arrayContaining([
        'Inbox',
        'Archive',
        'Junk Email',
        'Outbox',
        'Sent Items',
        'Drafts',
        'Deleted Items',
      ]),
    );
    expect(names).not.toContain('Clutter');
    const hidden = await call(
      sb,
      tok,
      'GET',
      '/v1.0/me/mailFolders?includeHiddenFolders=true&$top=50',
    );
    expect(value(hidden).map((f) => f.displayName)).toEqual(
      expect.arrayContaining(['Clutter', 'Sandbox Hidden']),
    );
    const inbox = await call(
      sb,
      tok,
      'GET',
      '/v1.0/me/mailFolders/Inbox?$select=displayName,totalItemCount',
    );
    expect(Object.keys(inbox.json).sort()).toEqual([
      '@odata.context',
      'displayName',
      'id',
      'totalItemCount',
    ]);
    const children = value(
      await call(
        sb,
        tok,
        'GET',
        `/v1.0/me/mailFolders/${encodeURIComponent(inbox.json.id as string)}/childFolders`,
      ),
    );
    expect(children.map((c) => c.displayName)).toEqual([
      'Newsletters',
      'Projects',
      'Receipts/Invoices',
    ]);
    const projects = children.find((c) => c.displayName === 'Projects')!;
    expect(projects.childFolderCount).toBe(2);
    const years = value(
      await call(
        sb,
        tok,
        'GET',
        `/v1.0/me/mailFolders/inbox/childFolders/${encodeURIComponent(projects.id as string)}/childFolders`,
      ),
    );
    expect(years.map((y) => y.displayName)).toEqual(['2025', '2026']);
    for (const wk of [
      'archive',
      'junkemail',
      'outbox',
      'sentitems',
      'deleteditems',
      'drafts',
      'msgfolderroot',
      'clutter',
      'conversationhistory',
      'syncissues',
      'conflicts',
      'localfailures',
      'serverfailures',
      'scheduled',
      'searchfolders',
      'recoverableitemsdeletions',
    ]) {
      expect((await call(sb, tok, 'GET', `/v1.0/me/mailFolders/${wk}`)).status, wk).toBe(200);
    }
    expect((await call(sb, tok, 'GET', '/v1.0/me/mailFolders/AAMkAGnope=')).status).toBe(404);
  });

  it('pages messages to the last page with absolute nextLinks and counts unread items consistently', async () => {
    const folders = sb.control.folders('adele@contoso.test');
    const inboxInfo = folders.find((f) => f.wellKnownName === 'inbox')!;
    let url: string | undefined =
      '/v1.0/me/mailFolders/inbox/messages?$top=7&$select=subject,isRead';
    const seen: string[] = [];
    let unread = 0;
    while (url) {
      const page = await call(sb, tok, 'GET', url);
      expect(page.status).toBe(200);
      for (const m of value(page)) {
        seen.push(m.id as string);
        if (m.isRead === false) unread++;
        expect(Object.keys(m).sort()).toEqual(['@odata.etag', 'id', 'isRead', 'subject']);
      }
      url = page.json['@odata.nextLink'] as string | undefined;
      if (url) expect(url).toContain('%24skip=');
    }
    expect(new Set(seen).size).toBe(inboxInfo.totalItemCount);
    expect(unread).toBe(inboxInfo.unreadItemCount);
    const counted = await call(sb, tok, 'GET', '/v1.0/me/messages?$count=true&$top=1');
    expect(counted.json['@odata.count']).toBe(
      sb.control
        .folders('adele@contoso.test')
        .filter(
          (f) =>
            f.wellKnownName !== 'recoverableitemsdeletions' && f.wellKnownName !== 'searchfolders',
        )
        .reduce((s, f) => s + f.totalItemCount, 0),
    );
  });

  it('rejects $top outside 1..1000 and unknown $select properties', async () => {
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$top=0')).status).toBe(400);
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$top=1001')).status).toBe(400);
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$top=1000')).status).toBe(200);
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$select=subject,bogus')).status).toBe(
      400,
    );
  });

  it('filters, orders and enforces InefficientFilter', async () => {
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const r = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/mailFolders/inbox/messages?$filter=receivedDateTime ge ${since} and isRead eq false&$orderby=receivedDateTime desc&$top=1000&$select=receivedDateTime,isRead`,
    );
    expect(r.status).toBe(200);
    for (const m of value(r)) {
      expect(Date.parse(m.receivedDateTime as string)).toBeGreaterThanOrEqual(Date.parse(since));
      expect(m.isRead).toBe(false);
    }
    const bad = await call(
      sb,
      tok,
      'GET',
      '/v1.0/me/messages?$filter=isRead eq false&$orderby=receivedDateTime desc',
    );
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      error: {
        code: 'InefficientFilter',
        message: 'The restriction or sort order is too complex for this operation.',
      },
    });
    const asc = value(
      await call(sb, tok, 'GET', '/v1.0/me/messages?$orderby=subject asc&$top=50&$select=subject'),
    );
    const subjects = asc.map((m) => (m.subject as string).toLowerCase());
    expect(subjects).toEqual([...subjects].sort((a, b) => a.localeCompare(b)));
    const byAddress = await call(
      sb,
      tok,
      'GET',
      "/v1.0/me/messages?$filter=from/emailAddress/address eq 'danas@fabrikam.example'&$top=5&$select=from",
    );
    for (const m of value(byAddress))
      expect((m.from as { emailAddress: { address: string } }).emailAddress.address).toBe(
        'danas@fabrikam.example',
      );
    expect(
      (await call(sb, tok, 'GET', "/v1.0/me/messages?$filter=nope eq 'x'")).json,
    ).toMatchObject({ error: { code: 'BadRequest' } });
  });

  it('applies $search restrictions and caps results', async () => {
    const found = await call(
      sb,
      tok,
      'GET',
      '/v1.0/me/messages?$search="subject:budget"&$select=subject,sentDateTime&$top=5',
    );
    expect(value(found).length).toBeGreaterThan(0);
    const dates = value(found).map((m) => Date.parse(m.sentDateTime as string));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
    expect(
      (
        await call(
          sb,
          tok,
          'GET',
          '/v1.0/me/messages?$search="budget"&$orderby=receivedDateTime desc',
        )
      ).json,
    ).toMatchObject({ error: { code: 'SearchWithOrderBy' } });
    expect(
      (await call(sb, tok, 'GET', '/v1.0/me/messages?$search="budget"&$filter=isRead eq true'))
        .status,
    ).toBe(400);
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$search="budget"&$skip=10')).status).toBe(
      400,
    );
    sb.control.setLimits({ searchMaxResults: 3 });
    const capped = await call(sb, tok, 'GET', '/v1.0/me/messages?$search="a"&$top=10&$count=true');
    sb.control.setLimits({ searchMaxResults: 1000 });
    expect(value(capped)).toHaveLength(3);
    expect(capped.json['@odata.nextLink']).toBeUndefined();
  });

  it('converts bodies with Prefer outlook.body-content-type and says so in Preference-Applied', async () => {
    const html = sb.control.addMessage('adele@contoso.test', 'inbox', {
      subject: 'html body',
      body: { contentType: 'HTML', content: '<p>Hello &amp; <b>welcome</b></p><p>Line two</p>' },
    });
    const asText = await call(sb, tok, 'GET', `/v1.0/me/messages/${html.id}?$select=body`, {
      headers: { Prefer: 'outlook.body-content-type="text"' },
    });
    expect(asText.headers.get('preference-applied')).toBe('outlook.body-content-type="text"');
    expect(asText.json.body).toMatchObject({ contentType: 'text' });
    expect((asText.json.body as { content: string }).content).toContain('Hello & welcome');
    const plain = await call(sb, tok, 'GET', `/v1.0/me/messages/${html.id}?$select=body`);
    expect(plain.headers.get('preference-applied')).toBeNull();
    expect(plain.json.body).toMatchObject({ contentType: 'html' });
  });

  it('returns immutable ids on request; both ids resolve; the immutable id survives a move', async () => {
    const added = sb.control.addMessage('adele@contoso.test', 'inbox', { subject: 'to move' });
    const imm = await call(sb, tok, 'GET', `/v1.0/me/messages/${added.id}?$select=subject`, {
      headers: { Prefer: 'IdType="ImmutableId"' },
    });
    expect(imm.headers.get('preference-applied')).toBe('IdType="ImmutableId"');
    expect(imm.json.id).toBe(added.immutableId);
    expect(imm.json.id).not.toBe(added.id);
    expect(
      (await call(sb, tok, 'GET', `/v1.0/me/messages/${added.immutableId}`)).json.subject,
    ).toBe('to move');
    const moved = await call(sb, tok, 'POST', `/v1.0/me/messages/${added.id}/move`, {
      body: { destinationId: 'archive' },
    });
    expect(moved.status).toBe(201);
    expect(moved.json.id).not.toBe(added.id);
    expect((await call(sb, tok, 'GET', `/v1.0/me/messages/${added.id}`)).status).toBe(404);
    const after = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${added.immutableId}?$select=parentFolderId`,
      { headers: { Prefer: 'IdType="ImmutableId"' } },
    );
    expect(after.json.id).toBe(added.immutableId);
    expect(after.json.parentFolderId).toBe(
      sb.control.folders('adele@contoso.test').find((f) => f.wellKnownName === 'archive')!.id,
    );
  });

  it('serves attachments and MIME', async () => {
    const withAttachment = value(
      await call(sb, tok, 'GET', '/v1.0/me/messages?$filter=hasAttachments eq true&$top=1'),
    )[0]!;
    const list = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${withAttachment.id as string}/attachments`,
    );
    const att = value(list)[0]!;
    expect(att['@odata.type']).toBe('#microsoft.graph.fileAttachment');
    const raw = await fetch(
      `${sb.url}/v1.0/me/messages/${withAttachment.id as string}/attachments/${att.id as string}/$value`,
      { headers: { Authorization: `Bearer ${tok}` } },
    );
    expect(Buffer.from(await raw.arrayBuffer()).toString('base64')).toBe(att.contentBytes);
    const mime = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${withAttachment.id as string}/$value`,
    );
    expect(mime.text).toContain('MIME-Version: 1.0');
    expect(mime.text).toContain(`Subject: ${withAttachment.subject as string}`);
  });

  it('expands attachments, counts with $count segments and rejects unknown query options', async () => {
    const withAtt = value(
      await call(
        sb,
        tok,
        'GET',
        '/v1.0/me/messages?$filter=hasAttachments eq true&$top=2&$expand=attachments($select=name,size)',
      ),
    );
    expect(withAtt.length).toBeGreaterThan(0);
    for (const m of withAtt)
      expect((m.attachments as Array<Record<string, unknown>>)[0]).toHaveProperty('name');
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$expand=extensions')).status).toBe(400);
    const count = await call(sb, tok, 'GET', '/v1.0/me/mailFolders/inbox/messages/$count');
    expect(Number(count.text)).toBe(
      sb.control.folders('adele@contoso.test').find((f) => f.wellKnownName === 'inbox')!
        .totalItemCount,
    );
    expect((await call(sb, tok, 'GET', '/v1.0/me/messages?$frobnicate=1')).status).toBe(400);
    expect((await call(sb, tok, 'GET', '/v1.0/me/mailFolders/%E0%A4%A')).status).toBe(400);
    expect((await call(sb, tok, 'GET', '/v1.0/me/calendar')).status).toBe(400);
  });

  it('generates a 50,000-message mailbox and pages its last page', async () => {
    const big = await withSandbox({ messagesPerUser: 50_000 });
    try {
      const t = await token(big);
      const all = await call(big, t, 'GET', '/v1.0/me/messages?$top=1&$count=true&$select=id');
      const total = all.json['@odata.count'] as number;
      expect(total).toBeGreaterThan(45_000);
      const last = await call(
        big,
        t,
        'GET',
        `/v1.0/me/messages?$top=1000&$skip=${total - 5}&$select=id`,
      );
      expect(value(last)).toHaveLength(5);
      expect(last.json['@odata.nextLink']).toBeUndefined();
    } finally {
      await big.close();
    }
  });
});
