import Mustache from 'mustache';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { splitText } from '../../src/mail/template-storage';
import { TEMPLATE_TABLE } from '../../src/mail/templates';
import { startTestStack, type TestStack } from '../support/stack';

/**
 * Issue #14, findings 1–3: a caller's template and variables are data. They cannot reach a
 * prototype or call a function (1), cannot make a render grow without bound (2), and leave nothing
 * behind in a process-wide cache (3). Each attack runs through the HTTP routes.
 */

let stack: TestStack;

beforeAll(async () => {
  // A 1 MB (1,000,000-byte) message limit, so the output cap is reachable with small requests.
  stack = await startTestStack({ env: { MAX_MESSAGE_SIZE_MB: '1' } });
});
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  // Should an attack succeed, undo it so the tests after it are not poisoned as well.
  delete (Object.prototype as Record<string, unknown>).length;
});

type Json = Record<string, unknown>;

async function call(method: string, path: string, body?: unknown, serviceId = 'svc') {
  const response = await stack.api(`/api/${path}`, {
    method,
    serviceId,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as Json,
  };
}

/** Stores a template behind the API's back: one saved before the checks existed. */
async function storeRaw(templateId: string, body: string) {
  const table = await stack.app.services.storage!.table(TEMPLATE_TABLE);
  await table.upsertEntity(
    {
      partitionKey: 'svc',
      rowKey: templateId,
      ...splitText('name', templateId),
      ...splitText('subject', 'Hello'),
      ...splitText('body', body),
      contentType: 'text',
      attachments: '[]',
      version: 1,
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    },
    'Replace',
  );
}

function expectRefused(
  result: { status: number; type: string | null; body: Json },
  path: string,
  message?: RegExp,
) {
  expect(result.status).toBe(400);
  expect(result.type).toBe('application/problem+json');
  expect(result.body.code).toBe('validation_failed');
  const errors = result.body.errors as Array<{ path: string; message: string }>;
  expect(errors.map((e) => e.path)).toContain(path);
  if (message) expect(errors.find((e) => e.path === path)!.message).toMatch(message);
}

/** A normal request of another service, answered correctly after an attack. */
async function otherServiceStillWorks() {
  const id = `ok${Math.random().toString(36).slice(2, 8)}`;
  const created = await call(
    'POST',
    'templates',
    { templateId: id, name: 'n', subject: 'Hi {{name}}', body: 'Dear {{name}}' },
    'other',
  );
  expect(created.status).toBe(201);
  const preview = await call(
    'POST',
    `templates/${id}/preview`,
    { variables: { name: 'Ann' } },
    'other',
  );
  expect(preview).toMatchObject({ status: 200, body: { subject: 'Hi Ann', body: 'Dear Ann' } });
}

const POLLUTE = '{{#l.__proto__.__proto__}}{{l.pop}}{{/l.__proto__.__proto__}}';

describe('finding 1: prototype pollution through templates', () => {
  it('refuses __proto__, constructor and prototype in a template when it is saved', async () => {
    expectRefused(
      await call('POST', 'templates', { templateId: 'p1', name: 'p', subject: 's', body: POLLUTE }),
      'body',
      /__proto__ is a reserved name/,
    );
    expectRefused(
      await call('POST', 'templates', {
        templateId: 'p2',
        name: 'p',
        subject: '{{#x.constructor}}{{/x.constructor}}',
        body: 'b',
      }),
      'subject',
      /constructor is a reserved name/,
    );
    expect((await call('GET', 'templates/p1')).status).toBe(404);
  });

  it('a stored template that walks to Object.prototype and calls pop changes nothing', async () => {
    await storeRaw('pollute', POLLUTE);
    const preview = await call('POST', 'templates/pollute/preview', { variables: { l: [] } });
    expectRefused(preview, 'body', /reserved name/);
    expect(Object.hasOwn(Object.prototype, 'length')).toBe(false);
    expect(({} as { length?: unknown }).length).toBeUndefined();
    await otherServiceStillWorks();
  });

  it('no inherited member is found and nothing is called, even without reserved names', async () => {
    await storeRaw('inherited', '{{#l}}{{pop}}{{push}}{{/l}}{{#s}}{{toUpperCase}}{{/s}}');
    const preview = await call('POST', 'templates/inherited/preview', {
      variables: { l: [{}], s: 'text' },
    });
    expect(preview.status).toBe(400);
    expect((preview.body.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual([
      'variables.pop',
      'variables.push',
      'variables.toUpperCase',
    ]);
  });

  it('refuses reserved names among the variables at any depth', async () => {
    await storeRaw('plain', 'Dear {{name}}');
    expectRefused(
      await call('POST', 'templates/plain/preview', {
        variables: { name: 'x', a: { b: [{ constructor: 1 }] } },
      }),
      'variables.a.b[0].constructor',
    );
    expectRefused(
      await call('POST', 'templates/plain/preview', { variables: { prototype: 'x', name: 'y' } }),
      'variables.prototype',
    );
  });

  it('deeply nested variables are a 400, not a stack overflow', async () => {
    await storeRaw('plain', 'Dear {{name}}');
    const depth = 100_000;
    const text = `{"variables":{"name":"n","deep":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const response = await stack.api('/api/templates/plain/preview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
    });
    expectRefused(
      {
        status: response.status,
        type: response.headers.get('content-type'),
        body: (await response.json()) as Json,
      },
      'variables.deep[0][0][0][0][0][0][0][0]',
      /nested more than 8 levels/,
    );
  });
});

/** `{{#l}}` four deep over 30 items: the 49-character template and 67-character variables. */
const NESTED4 = '{{#l}}{{#l}}{{#l}}{{#l}}.{{/l}}{{/l}}{{/l}}{{/l}}';
const THIRTY = { l: Array.from({ length: 30 }, () => 1) };

describe('finding 2: render blow-up', () => {
  it('the issue case (49-character template × 67-character variables) is refused naming body', async () => {
    expect(NESTED4).toHaveLength(49);
    expect(JSON.stringify(THIRTY)).toHaveLength(67);
    await storeRaw('nested4', NESTED4);
    expectRefused(
      await call('POST', 'templates/nested4/preview', { variables: THIRTY }),
      'body',
      /needs more than 100000 steps/,
    );
    await otherServiceStillWorks();
  });

  it('six levels over the same list (minutes of rendering before) are refused the same way', async () => {
    const open = '{{#l}}'.repeat(6);
    const close = '{{/l}}'.repeat(6);
    const created = await call('POST', 'templates', {
      templateId: 'nested6',
      name: 'n',
      subject: 's',
      body: `${open}.${close}`,
    });
    expect(created.status).toBe(201);
    expectRefused(
      await call('POST', 'templates/nested6/preview', { variables: THIRTY }),
      'body',
      /needs more than 100000 steps/,
    );
  });

  it('sections nested deeper than six are refused when the template is saved', async () => {
    expectRefused(
      await call('POST', 'templates', {
        templateId: 'nested7',
        name: 'n',
        subject: 's',
        body: `${'{{#l}}'.repeat(7)}.${'{{/l}}'.repeat(7)}`,
      }),
      'body',
      /nested more than 6 deep/,
    );
  });

  it('output larger than the message size limit is refused naming body', async () => {
    await storeRaw('wide', '{{#l}}{{x}}{{/l}}');
    expectRefused(
      await call('POST', 'templates/wide/preview', {
        variables: { x: 'a'.repeat(100_000), l: Array.from({ length: 20 }, () => 1) },
      }),
      'body',
      /larger than 1000000 bytes/,
    );
  });

  it('a bulk send is refused naming template.body, or templateId for a stored template', async () => {
    const recipients = [{ to: 'a@example.com', variables: THIRTY }];
    expectRefused(
      await call('POST', 'credentials/c1/bulk-sends', {
        template: { subject: 's', body: NESTED4 },
        recipients,
      }),
      'template.body',
      /needs more than 100000 steps when rendered for recipients\[0\]/,
    );
    expectRefused(
      await call('POST', 'credentials/c1/bulk-sends', { templateId: 'nested4', recipients }),
      'templateId',
    );
  });

  it('one bulk send cannot spend more than its budget over many recipients', async () => {
    // 80,000 steps each: under the per-render cap, 4 million together after 50 recipients.
    const l = Array.from({ length: 200 }, () => 1);
    const recipients = Array.from({ length: 60 }, (_, i) => ({
      to: `r${i}@example.com`,
      variables: { l },
    }));
    expectRefused(
      await call('POST', 'credentials/c1/bulk-sends', {
        template: { subject: 's', body: '{{#l}}{{#l}}.{{/l}}{{/l}}' },
        recipients,
      }),
      'template.body',
      /rendering budget of one bulk send/,
    );
  });
});

describe('finding 3: no process-wide template cache', () => {
  it('a rendered template leaves nothing in Mustache’s global cache', async () => {
    const body = `Dear {{name}} ${'x'.repeat(50_000)} ${Math.random()}`;
    await storeRaw('cached', body);
    const preview = await call('POST', 'templates/cached/preview', { variables: { name: 'N' } });
    expect(preview.status).toBe(200);
    expect(Mustache.templateCache?.get(`${body}:{{:}}`)).toBeUndefined();
    expect(Mustache.templateCache?.get(`Hello:{{:}}`)).toBeUndefined();
  });
});
