import { describe, expect, it } from 'vitest';

import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/** Template routes end to end: local host, edge, Azurite tables and blobs. */

const stack = useStack(() => startTestStack());

async function call(
  method: string,
  path: string,
  body?: unknown,
  init: { headers?: Record<string, string>; serviceId?: string } = {},
) {
  const response = await stack.api(`/api/${path}`, {
    method,
    ...(init.serviceId ? { serviceId: init.serviceId } : {}),
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    type: response.headers.get('content-type'),
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

const welcome = {
  templateId: 'welcome',
  name: 'Welcome',
  subject: 'Welcome {{firstName}}',
  body: '<p>Hi {{firstName}},</p>{{#personalNote}}<p>{{.}}</p>{{/personalNote}}<p>{{company}}</p>',
  contentType: 'html',
};

describe('templates', () => {
  it('create, read, list, update with versions, delete; per service', async () => {
    const created = await call('POST', 'templates', welcome);
    expect(created.status).toBe(201);
    expect(created.etag).toBe('"1"');
    expect(created.body).toMatchObject({ ...welcome, version: 1, attachments: [] });

    const generated = await call('POST', 'templates', { name: 'No id', subject: 's', body: 'b' });
    expect(generated.status).toBe(201);
    expect(generated.body.templateId).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(generated.body.contentType).toBe('text');

    expect((await call('POST', 'templates', welcome)).body.code).toBe('conflict');
    expect((await call('GET', 'templates/welcome')).body).toMatchObject({
      subject: welcome.subject,
      version: 1,
    });
    const list = await call('GET', 'templates');
    expect(
      (list.body.templates as Array<{ templateId: string }>).map((t) => t.templateId).sort(),
    ).toEqual([generated.body.templateId, 'welcome'].sort());

    // Another service sees nothing, exactly like a missing template.
    expect((await call('GET', 'templates/welcome', undefined, { serviceId: 'other' })).status).toBe(
      404,
    );
    expect(
      (await call('GET', 'templates', undefined, { serviceId: 'other' })).body.templates,
    ).toEqual([]);
    expect(
      (await call('DELETE', 'templates/welcome', undefined, { serviceId: 'other' })).status,
    ).toBe(404);

    const { templateId: _id, ...input } = welcome;
    const v2 = await call(
      'PUT',
      'templates/welcome',
      { ...input, subject: 'Hello {{firstName}}' },
      { headers: { 'if-match': '"1"' } },
    );
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, subject: 'Hello {{firstName}}' });
    const stale = await call('PUT', 'templates/welcome', input, { headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.type).toBe('application/problem+json');
    expect(stale.body).toMatchObject({
      status: 412,
      code: 'precondition_failed',
      currentVersion: 2,
    });
    expect((await call('PUT', 'templates/welcome', input)).body.version).toBe(3);
    expect((await call('PUT', 'templates/missing', input)).status).toBe(404);
    expect(
      (await call('DELETE', 'templates/welcome', undefined, { headers: { 'if-match': '"2"' } }))
        .status,
    ).toBe(412);
    expect(
      (await call('DELETE', 'templates/welcome', undefined, { headers: { 'if-match': '"3"' } }))
        .status,
    ).toBe(204);
    expect((await call('GET', 'templates/welcome')).status).toBe(404);
  });

  it('refuses bad input, naming the field', async () => {
    const bad = async (body: unknown, path = 'templates') => {
      const r = await call('POST', path, body);
      expect(r.status).toBe(400);
      return r.body.errors as Array<{ path: string; message: string }>;
    };
    expect(await bad({ ...welcome, subject: 'Hi {{firstName' })).toEqual([
      { path: 'subject', message: expect.stringContaining('syntax error') },
    ]);
    expect(await bad({ ...welcome, body: '{{#a}}open' })).toEqual([
      { path: 'body', message: expect.stringContaining('Unclosed section') },
    ]);
    expect(await bad({ ...welcome, body: '{{> partial}}' })).toEqual([
      { path: 'body', message: expect.stringContaining('partials') },
    ]);
    expect((await bad({ ...welcome, templateId: 'has space' }))[0]!.path).toBe('templateId');
    expect((await bad({ ...welcome, contentType: 'rtf' }))[0]!.path).toBe('contentType');
    expect((await bad({ ...welcome, extra: 1 }))[0]!.path).toBe('extra');
    expect(
      (
        await bad({
          ...welcome,
          templateId: 'x1',
          attachments: [{ name: 'a/b.pdf', contentBase64: 'AAAA' }],
        })
      )[0]!.path,
    ).toBe('attachments[0].name');
    expect(
      (
        await bad({
          ...welcome,
          templateId: 'x2',
          attachments: [{ name: 'a.pdf', contentBase64: 'not base64!' }],
        })
      )[0]!.path,
    ).toBe('attachments[0].contentBase64');
    expect((await call('GET', 'templates/bad%20id')).status).toBe(400);
    expect(
      (await call('PUT', 'templates/x', { ...welcome }, { headers: { 'if-match': 'yesterday' } }))
        .status,
    ).toBe(400);
    expect((await call('POST', 'templates', 'not json')).status).toBe(400);
  });

  it('stores large bodies (split over Table properties) and default attachments (blob storage)', async () => {
    const body = `<p>{{firstName}}</p>${'<p>Lorem ipsum 😀 dolor sit amet</p>'.repeat(8000)}`; // ~290k chars, emoji at every chunk edge
    const bytes = Buffer.from('%PDF-1.4 fake pdf bytes');
    const created = await call('POST', 'templates', {
      templateId: 'big',
      name: 'Big',
      subject: 'Big {{firstName}}',
      body,
      contentType: 'html',
      attachments: [
        {
          name: 'terms.pdf',
          contentType: 'application/pdf',
          contentBase64: bytes.toString('base64'),
        },
      ],
    });
    expect(created.status).toBe(201);
    const read = await call('GET', 'templates/big');
    expect(read.body.body).toBe(body);
    expect(read.body.attachments).toEqual([
      { name: 'terms.pdf', contentType: 'application/pdf', size: bytes.length },
    ]);
    // PUT without attachments keeps them; a shorter body leaves no stale chunks behind.
    const put = await call('PUT', 'templates/big', {
      name: 'Big',
      subject: 's',
      body: 'short',
      contentType: 'text',
    });
    expect(put.body).toMatchObject({
      body: 'short',
      version: 2,
      attachments: [{ name: 'terms.pdf' }],
    });
    expect((await call('GET', 'templates/big')).body.body).toBe('short');
    const tooLong = await call('POST', 'templates', {
      name: 'x',
      subject: 's',
      body: 'x'.repeat(900_001),
    });
    expect(tooLong.status).toBe(400);
    expect((tooLong.body.errors as Array<{ path: string }>)[0]!.path).toBe('body');
  });

  it('preview renders exactly what is sent, and lists every missing field', async () => {
    await call('POST', 'templates', { ...welcome, templateId: 'pv' });
    const ok = await call('POST', 'templates/pv/preview', {
      variables: { firstName: 'Zoë <script>', company: 'A&B' },
      personalNote: 'Thanks for "yesterday"',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      subject: 'Welcome Zoë <script>',
      body: '<p>Hi Zoë &lt;script&gt;,</p><p>Thanks for &quot;yesterday&quot;</p><p>A&amp;B</p>',
      contentType: 'html',
    });
    const row = await call('POST', 'templates/pv/preview', {
      to: 'zoe@example.com',
      cc: ['boss@example.com'],
      variables: { firstName: 'Zoë <script>', company: 'A&B' },
      personalNote: 'Thanks for "yesterday"',
    });
    expect(row.body).toEqual(ok.body);
    const missing = await call('POST', 'templates/pv/preview', { variables: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('validation_failed');
    expect(missing.body.errors).toEqual([
      { path: 'variables.firstName', message: 'is used by the template but missing' },
      { path: 'variables.company', message: 'is used by the template but missing' },
    ]);
    expect((await call('POST', 'templates/none/preview', { variables: {} })).status).toBe(404);
    expect(
      (
        await call(
          'POST',
          'templates/pv/preview',
          { variables: { firstName: 'x', company: 'y' } },
          { serviceId: 'other' },
        )
      ).status,
    ).toBe(404);
    expect(
      (await call('POST', 'templates/pv/preview', { variables: { 'bad name': 1 } })).status,
    ).toBe(400);
  });
});
