import { describe, expect, it } from 'vitest';

import { NotFoundError } from '../../../src/core/errors';
import { compileFor, resolveTemplate } from '../../../src/mail/bulk/job-template';
import { type Template, type TemplateService } from '../../../src/mail/templates';
import { validationErrors } from '../../support/errors';

/** A job's template, inline or stored, compiled with problems named by where it came from. */

const inline = { subject: 'Hi {{name}}', body: 'x', contentType: 'text' as const };

function templates(stored?: Partial<Template>): Pick<TemplateService, 'get'> {
  return {
    get(serviceId, templateId) {
      if (!stored || serviceId !== 'svc') return Promise.reject(new NotFoundError(templateId));
      return Promise.resolve({ ...inline, ...stored } as Template);
    },
  };
}

describe('resolveTemplate', () => {
  it('an inline template has no id, attachments or sender fields', async () => {
    expect(await resolveTemplate(templates(), 'svc', { template: inline })).toEqual({
      parts: inline,
      attachments: [],
      id: undefined,
      version: undefined,
      sender: undefined,
    });
  });

  it("a stored one brings its version, attachments and sender fields; another service's is refused by templateId", async () => {
    const ref = { name: 'a.pdf', contentType: 'application/pdf', size: 3, sha256: 'abc' };
    const stored = templates({
      templateId: 't1',
      version: 4,
      attachments: [ref],
      from: { name: 'Sales' },
      replyTo: [{ address: 'r@contoso.test' }],
    });
    expect(await resolveTemplate(stored, 'svc', { templateId: 't1' })).toMatchObject({
      id: 't1',
      version: 4,
      attachments: [ref],
      sender: { from: { name: 'Sales' }, replyTo: [{ address: 'r@contoso.test' }] },
    });
    expect(
      await validationErrors(() => resolveTemplate(stored, 'other', { templateId: 't1' })),
    ).toEqual([{ path: 'templateId', message: 'is not a template of this service' }]);
  });
});

describe('compileFor', () => {
  const broken = { subject: 'Hi {{#open}}', body: 'x', contentType: 'text' as const };

  it('names an inline template problem under template.*, a stored one under templateId', async () => {
    const inlineErrors = await validationErrors(() => compileFor({ template: broken }, broken));
    expect(inlineErrors.every((e) => e.path.startsWith('template.'))).toBe(true);
    const storedErrors = await validationErrors(() => compileFor({}, broken));
    expect(storedErrors.map((e) => e.path)).toEqual(inlineErrors.map(() => 'templateId'));
    expect(storedErrors[0]!.message).toContain(inlineErrors[0]!.path.slice('template.'.length));
  });

  it('compiles a good template', () => {
    expect(compileFor({ template: inline }, inline)).toBeDefined();
  });
});
