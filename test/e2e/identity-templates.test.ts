import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import * as prettier from 'prettier';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { drawPng } from '../support/png';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Signatures and sender fields in templates and bulk jobs, end to end: `{{signature}}` placed in
 * HTML and text templates, previews that show the message exactly as the send stage makes it and
 * check a row's addresses as a bulk job does; the Graph sandbox's Sent Items are the ground truth.
 */

let stack: TestStack;
let adele: string;
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
type Json = Record<string, unknown>;

async function call(method: string, path: string, body?: unknown) {
  const response = await stack.api(`/api/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
}

const paths = (body: Json) => (body.errors as Array<{ path: string }>).map((e) => e.path);
const writes = () =>
  stack.sandbox.control
    .requestLog()
    .filter((e) => e.path.startsWith('/v1.0/') && e.method !== 'GET');
const signatureCount = (html: string) => html.split('id="Signature"').length - 1;

/** The sent message with this subject, once the bulk job has sent it. */
async function sentMessage(subject: string): Promise<Json & { body: { content: string } }> {
  return vi.waitFor(
    () => {
      const found = stack.sandbox.control.sentItems(adele).find((m) => m.subject === subject);
      if (!found) throw new Error(`nothing sent with subject ${subject}`);
      return found as unknown as Json & { body: { content: string } };
    },
    { timeout: 30_000, interval: 100 },
  );
}

async function bulk(body: Json) {
  const created = await call('POST', 'credentials/c1/bulk-sends', body);
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  return created.body;
}

beforeAll(async () => {
  stack = await startTestStack();
  adele = stack.sandbox.users[0]!.userPrincipalName;
  await stack.connect('c1');
  const put = await call('PUT', 'credentials/c1/signature', {
    html: '<p>Adele Vance<br>Retail Manager</p><img src="cid:logo" alt="Contoso">',
    images: [
      {
        contentId: 'logo',
        name: 'logo.png',
        contentType: 'image/png',
        contentBase64: PNG.toString('base64'),
      },
    ],
  });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
}, 60_000);
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => {
  stack.sandbox.control.clearRequestLog();
});

describe('{{signature}} in templates', () => {
  it('puts the signature at the slot of an HTML template, once, and the preview shows what is sent', async () => {
    const template = {
      templateId: 'signed-html',
      name: 'Signed HTML',
      subject: 'Placed {{firstName}}',
      contentType: 'html',
      body: '<p>Hi {{firstName}},</p>{{signature}}<p>P.S. Reply STOP to stop.</p>',
    };
    expect((await call('POST', 'templates', template)).status).toBe(201);
    const row = { to: 'zoe@example.com', variables: { firstName: 'Zoë' } };

    const preview = await call('POST', 'templates/signed-html/preview', {
      ...row,
      credentialId: 'c1',
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    const shown = preview.body.body as string;
    expect(signatureCount(shown)).toBe(1);
    expect(shown.indexOf('Hi Zoë')).toBeLessThan(shown.indexOf('id="Signature"'));
    expect(shown.indexOf('id="Signature"')).toBeLessThan(shown.indexOf('P.S.'));
    expect(shown).toContain('cid:logo');
    expect(preview.body.inlineImages).toEqual([
      { name: 'logo.png', contentType: 'image/png', contentId: 'logo', size: PNG.length },
    ]);
    // Without a credential nobody's signature is known: the slot is left empty.
    const bare = await call('POST', 'templates/signed-html/preview', row);
    expect(bare.body.body).toBe('<p>Hi Zoë,</p><p>P.S. Reply STOP to stop.</p>');
    expect(writes()).toEqual([]);

    await bulk({ templateId: 'signed-html', recipients: [row] });
    const sent = await sentMessage('Placed Zoë');
    expect(sent.body.content).toContain(shown);
    expect(signatureCount(sent.body.content)).toBe(1);
  });

  it('puts the text signature with its "-- " line at the slot of a text template, not again at the end', async () => {
    const template = {
      templateId: 'signed-text',
      name: 'Signed text',
      subject: 'Text placed {{firstName}}',
      body: 'Hi {{firstName}},\nsee you soon.\n{{signature}}\nReply STOP to stop.',
    };
    expect((await call('POST', 'templates', template)).status).toBe(201);
    const row = { to: 'yan@example.com', variables: { firstName: 'Yan' } };
    const preview = await call('POST', 'templates/signed-text/preview', {
      ...row,
      credentialId: 'c1',
    });
    const expected =
      'Hi Yan,\nsee you soon.\n-- \nAdele Vance\nRetail Manager\nReply STOP to stop.';
    expect(preview.body.body).toBe(expected);
    expect(preview.body.inlineImages).toEqual([]);

    await bulk({ templateId: 'signed-text', recipients: [row] });
    expect((await sentMessage('Text placed Yan')).body.content).toBe(expected);
  });

  it('appends the signature after a template without a slot, and none with signature:false', async () => {
    const template = {
      templateId: 'unslotted',
      name: 'Unslotted',
      subject: 'Appended {{n}}',
      body: 'Number {{n}}',
    };
    expect((await call('POST', 'templates', template)).status).toBe(201);
    await bulk({
      templateId: 'unslotted',
      recipients: [{ to: 'a@example.com', variables: { n: 1 } }],
    });
    expect((await sentMessage('Appended 1')).body.content).toBe(
      'Number 1\n\n-- \nAdele Vance\nRetail Manager',
    );
    await bulk({
      templateId: 'unslotted',
      signature: false,
      recipients: [{ to: 'b@example.com', variables: { n: 2 } }],
    });
    expect((await sentMessage('Appended 2')).body.content).toBe('Number 2');
  });
});

describe('template preview checks a row as a bulk job does', () => {
  beforeAll(async () => {
    await call('POST', 'templates', {
      templateId: 'plain',
      name: 'Plain',
      subject: 'Hello {{firstName}}',
      body: 'Hi {{firstName}}',
    });
  });

  it('answers 400 naming each bad address field, before any Graph call', async () => {
    for (const [body, expected] of [
      [{ to: 123 }, ['to']],
      [{ to: 'not-an-address' }, ['to']],
      [{ cc: ['ok@example.com', 'bad'] }, ['cc[1]']],
      [{ from: 'adele@contoso.test' }, ['credentialId']],
      [{ credentialId: 'c1', from: 'ceo@contoso.test' }, ['from']],
      [{ credentialId: 'c1', from: { address: adele, name: 'A\r\nBcc: x@y.z' } }, ['from.name']],
      [{ replyTo: ['ok@example.com', 'bad'] }, ['replyTo[1]']],
    ] as const) {
      const r = await call('POST', 'templates/plain/preview', {
        variables: { firstName: 'x' },
        ...body,
      });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.code).toBe('validation_failed');
      expect(paths(r.body), JSON.stringify(body)).toEqual(expected);
    }
    expect(writes()).toEqual([]);
  });

  it('names a bad address and a missing merge field of the same row at once', async () => {
    const r = await call('POST', 'templates/plain/preview', { to: 'bad', variables: {} });
    expect(r.status).toBe(400);
    expect(paths(r.body).sort()).toEqual(['to', 'variables.firstName']);
  });
});

describe('signed message sample', () => {
  const SAMPLE = path.resolve(__dirname, '../../docs/signed-message-sample.html');
  /** Contoso's mark: an orange disc on navy. */
  const logo = drawPng(48, 48, (x, y) =>
    (x - 23.5) ** 2 + (y - 23.5) ** 2 < 15 ** 2 ? [242, 140, 40] : [31, 56, 100],
  );

  it('matches docs/signed-message-sample.html, made by a real send (UPDATE_SIGNED_SAMPLE=1 rewrites it)', async () => {
    await stack.connect('sample');
    const signature = await call('PUT', 'credentials/sample/signature', {
      html:
        '<table cellpadding="0" cellspacing="0"><tr>' +
        `<td width="60"><img src="data:image/png;base64,${logo.toString('base64')}" alt="Contoso" width="48" height="48"></td>` +
        '<td style="font-family:Segoe UI, Arial, sans-serif;font-size:13px;color:#1f3864">' +
        '<b>Adele Vance</b><br>Retail Manager, Contoso<br>' +
        '<a href="tel:+14255550100">+1 425 555 0100</a> · <a href="https://contoso.test">contoso.test</a>' +
        '</td></tr></table>',
      default: true,
    });
    expect(signature.status, JSON.stringify(signature.body)).toBe(200);
    const subject = 'Your quote from Contoso';
    const sent = await call('POST', 'credentials/sample/send', {
      to: { address: 'megan@contoso.test', name: 'Megan Bowen' },
      subject,
      contentType: 'html',
      body: '<p>Dear Megan,</p><p>Please find the quote we discussed below. It is valid for 30 days.</p><p>Kind regards,</p>',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);
    // Exchange may answer before the Sent Items copy exists (messageId null): wait for the copy.
    const id = (await sentMessage(subject)).immutableId as string;

    // Read back through the product, as a platform would: the body and its inline image.
    const message = await call('GET', `credentials/sample/messages/${id}?bodyFormat=html`);
    expect(message.status, JSON.stringify(message.body)).toBe(200);
    const html = (message.body.body as { content: string }).content;
    const listed = await call('GET', `credentials/sample/messages/${id}/attachments`);
    const inline = (listed.body.attachments as Array<{ id: string; isInline: boolean }>).filter(
      (a) => a.isInline,
    );
    expect(inline).toHaveLength(1);
    const content = await stack.api(
      `/api/credentials/sample/messages/${id}/attachments/${inline[0]!.id}/content`,
    );
    const bytes = Buffer.from(await content.arrayBuffer());
    expect(bytes.equals(logo)).toBe(true);
    const cids = [...html.matchAll(/src="cid:([^"]+)"/g)].map((m) => m[1]);
    expect(cids).toHaveLength(1);
    expect(signatureCount(html)).toBe(1);

    // What a mail client shows: the cid: reference resolved to the attached image.
    const shown = html.replace(
      `cid:${cids[0]!}`,
      `data:image/png;base64,${bytes.toString('base64')}`,
    );
    const sample = [
      `<!-- A signed message as sent through the product to the Graph sandbox (${subject}): the`,
      '     body Graph gives back, with the inline image its cid: reference names put in place,',
      '     as a mail client shows it. Made by test/e2e/identity-templates.test.ts. -->',
      shown,
    ].join('\n');
    const options = await prettier.resolveConfig(SAMPLE);
    const formatted = await prettier.format(sample, { ...options, parser: 'html' });
    if (process.env.UPDATE_SIGNED_SAMPLE === '1') writeFileSync(SAMPLE, formatted);
    expect(existsSync(SAMPLE)).toBe(true);
    expect(readFileSync(SAMPLE, 'utf8')).toBe(formatted);
  });
});

describe('reply-to and display name per template, job and row', () => {
  it('stores them on a template, checks them, and lets a job and each row override them', async () => {
    const template = {
      templateId: 'named',
      name: 'Named',
      subject: 'Named {{n}}',
      body: 'Hello {{n}}',
      from: { name: 'Contoso Onboarding' },
      replyTo: { address: 'onboarding@contoso.test', name: 'Onboarding' },
    };
    const created = await call('POST', 'templates', template);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await call('GET', 'templates/named')).body).toMatchObject({
      from: { name: 'Contoso Onboarding' },
      replyTo: [{ address: 'onboarding@contoso.test', name: 'Onboarding' }],
    });
    const bad = await call('POST', 'templates', {
      ...template,
      templateId: 'bad-sender',
      from: { name: 'Contoso\r\nBcc: x@y.z' },
      replyTo: Array.from({ length: 11 }, (_, i) => `r${i}@example.com`),
    });
    expect(bad.status).toBe(400);
    expect(paths(bad.body).sort()).toEqual(['from.name', 'replyTo']);

    // The template's name goes out from the primary address; a preview row may override.
    const preview = await call('POST', 'templates/named/preview', {
      credentialId: 'c1',
      variables: { n: 1 },
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body).toMatchObject({
      from: { address: adele, name: 'Contoso Onboarding' },
      replyTo: [{ address: 'onboarding@contoso.test', name: 'Onboarding' }],
    });
    const rowPreview = await call('POST', 'templates/named/preview', {
      credentialId: 'c1',
      variables: { n: 1 },
      replyTo: 'desk@contoso.test',
    });
    expect(rowPreview.body.replyTo).toEqual([{ address: 'desk@contoso.test' }]);

    // A row's from must be one the credential may send as, found in the same pass as the rest.
    const refused = await call('POST', 'credentials/c1/bulk-sends', {
      templateId: 'named',
      recipients: [
        { to: 'p@example.com', variables: { n: 1 } },
        { to: 'q@example.com', variables: {}, from: 'ceo@contoso.test' },
      ],
    });
    expect(refused.status).toBe(400);
    expect(paths(refused.body).sort()).toEqual(['recipients[1].from', 'recipients[1].variables.n']);

    await bulk({
      templateId: 'named',
      recipients: [
        { to: 'p@example.com', variables: { n: 'P' } },
        {
          to: 'q@example.com',
          variables: { n: 'Q' },
          from: { address: adele, name: 'Adele at Contoso' },
          replyTo: ['adele@contoso.test'],
        },
      ],
    });
    const p = await sentMessage('Named P');
    const q = await sentMessage('Named Q');
    expect(p.replyTo).toEqual([
      { emailAddress: { address: 'onboarding@contoso.test', name: 'Onboarding' } },
    ]);
    expect(q.replyTo).toEqual([
      { emailAddress: { address: 'adele@contoso.test', name: 'adele@contoso.test' } },
    ]);
    expect(q.from).toMatchObject({ emailAddress: { address: adele } });
  });
});
