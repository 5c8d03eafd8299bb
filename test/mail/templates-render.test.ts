import { describe, expect, it } from 'vitest';

import { ValidationError } from '../../src/core/errors';
import {
  checkTemplate,
  compileTemplate,
  measureTemplate,
  renderTemplate as renderCompiled,
  type RenderInput,
  type TemplateParts,
} from '../../src/mail/template-render';

const renderTemplate = (parts: TemplateParts, input: RenderInput, pathPrefix = '') =>
  renderCompiled(compileTemplate(parts), input, { maxBytes: 35 * 1024 * 1024, pathPrefix });

function errorsOf(run: () => unknown): Array<{ path: string; message: string }> {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('renderTemplate', () => {
  it('fills merge fields and the personal note; escapes HTML bodies only', () => {
    const out = renderTemplate(
      {
        subject: 'Hi {{name}} & co',
        body: '<p>{{name}}</p><p>{{personalNote}}</p>',
        contentType: 'html',
      },
      { variables: { name: 'Tom <b>&</b>' }, personalNote: 'Loved "it"' },
    );
    expect(out.subject).toBe('Hi Tom <b>&</b> & co');
    expect(out.body).toBe('<p>Tom &lt;b&gt;&amp;&lt;&#x2F;b&gt;</p><p>Loved &quot;it&quot;</p>');
    expect(out.contentType).toBe('html');
  });

  it('does not escape text bodies', () => {
    const out = renderTemplate(
      { subject: 's', body: 'Dear {{name}}, {{company.name}}', contentType: 'text' },
      { variables: { name: '<Ann>', company: { name: 'A&B' } } },
    );
    expect(out.body).toBe('Dear <Ann>, A&B');
  });

  it('lists every missing field with its path, never renders a hole', () => {
    const errors = errorsOf(() =>
      renderTemplate(
        {
          subject: '{{title}} for {{name}}',
          body: '{{name}} {{city}} {{personalNote}} {{a.b}}',
          contentType: 'text',
        },
        { variables: { name: 'x', a: {} } },
        'recipients[3].',
      ),
    );
    expect(errors.map((e) => e.path).sort()).toEqual([
      'recipients[3].personalNote',
      'recipients[3].variables.a.b',
      'recipients[3].variables.city',
      'recipients[3].variables.title',
    ]);
  });

  it('treats null as missing and an object used as a value as an error', () => {
    const errors = errorsOf(() =>
      renderTemplate(
        { subject: 's', body: '{{x}} {{y}}', contentType: 'text' },
        { variables: { x: null, y: { z: 1 } } },
      ),
    );
    expect(errors).toEqual([
      { path: 'variables.x', message: 'is used by the template but missing' },
      { path: 'variables.y', message: expect.stringContaining('section') },
    ]);
  });

  it('sections: optional content may be absent; lists iterate with the item as context', () => {
    const parts = {
      subject: 'Order',
      body: '{{#vip}}VIP {{/vip}}{{^vip}}Regular {{/vip}}{{#items}}[{{sku}} x{{qty}} for {{name}}]{{/items}}{{#personalNote}}PS {{.}}{{/personalNote}}',
      contentType: 'text' as const,
    };
    expect(
      renderTemplate(parts, {
        variables: {
          name: 'N',
          items: [
            { sku: 'a', qty: 1 },
            { sku: 'b', qty: 2 },
          ],
        },
      }).body,
    ).toBe('Regular [a x1 for N][b x2 for N]');
    expect(
      renderTemplate(parts, { variables: { vip: true, items: [] }, personalNote: 'hi' }).body,
    ).toBe('VIP PS hi');
    // A missing field inside a list item is reported
    expect(
      errorsOf(() => renderTemplate(parts, { variables: { name: 'N', items: [{ sku: 'a' }] } })),
    ).toEqual([{ path: 'variables.qty', message: 'is used by the template but missing' }]);
  });

  it('cannot reach prototype members: inherited names are missing, reserved ones refused', () => {
    expect(
      errorsOf(() =>
        renderTemplate(
          {
            subject: '{{toString}}',
            body: '{{#l}}{{valueOf}}{{/l}}{{l.length}}',
            contentType: 'text',
          },
          { variables: { l: [{}] } },
        ),
      ).map((e) => e.path),
    ).toEqual(['variables.toString', 'variables.valueOf']);
    expect(
      errorsOf(() =>
        checkTemplate({
          subject: '{{constructor}}',
          body: '{{#a.__proto__}}{{/a.__proto__}}{{b.prototype}}',
          contentType: 'text',
        }),
      ),
    ).toEqual([
      { path: 'subject', message: '"constructor": constructor is a reserved name' },
      { path: 'body', message: '"a.__proto__": __proto__ is a reserved name' },
      { path: 'body', message: '"b.prototype": prototype is a reserved name' },
    ]);
  });

  it('keeps the subject on one line', () => {
    const out = renderTemplate(
      { subject: 'A {{x}}', body: 'b', contentType: 'text' },
      { variables: { x: 'b\r\nBcc: evil@x.com' } },
    );
    expect(out.subject).toBe('A b Bcc: evil@x.com');
  });
});

describe('measureTemplate', () => {
  it('counts the bytes renderTemplate produces, escaping included, without building them', () => {
    const parts: TemplateParts = {
      subject: 'Für {{name}}',
      body: '<p>{{name}} 😀</p>{{#items}}<li>{{.}}</li>{{/items}}{{^none}}none{{/none}}',
      contentType: 'html',
    };
    const input = { variables: { name: 'A&B "Zoë"', items: ['<x>', 'ü', 3] } };
    const rendered = renderTemplate(parts, input);
    expect(measureTemplate(compileTemplate(parts), input, { maxBytes: 1000 })).toBe(
      Buffer.byteLength(rendered.subject + rendered.body),
    );
  });
});

describe('checkTemplate', () => {
  it('names the part with a syntax error', () => {
    expect(
      errorsOf(() => checkTemplate({ subject: 'Hi {{name', body: 'ok', contentType: 'text' })),
    ).toEqual([{ path: 'subject', message: expect.stringContaining('Unclosed tag') }]);
    expect(
      errorsOf(() => checkTemplate({ subject: 'ok', body: '{{#a}}x', contentType: 'text' })),
    ).toEqual([{ path: 'body', message: expect.stringContaining('Unclosed section') }]);
  });

  it('refuses partials everywhere and unescaped tags in HTML bodies', () => {
    expect(
      errorsOf(() =>
        checkTemplate({ subject: '{{> p}}', body: '{{{raw}}} {{&raw}}', contentType: 'html' }),
      ),
    ).toEqual([
      { path: 'subject', message: expect.stringContaining('partials') },
      { path: 'body', message: expect.stringContaining('unescaped') },
      { path: 'body', message: expect.stringContaining('unescaped') },
    ]);
    expect(() =>
      checkTemplate({ subject: 's', body: '{{{raw}}}', contentType: 'text' }),
    ).not.toThrow();
  });
});
