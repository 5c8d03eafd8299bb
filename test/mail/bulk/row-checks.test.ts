import { describe, expect, it } from 'vitest';

import { MAX_REPORTED_ERRORS, type Row } from '../../../src/mail/bulk/request';
import { checkRecipients, MAX_RECIPIENTS } from '../../../src/mail/bulk/row-checks';
import { compileTemplate } from '../../../src/mail/template-render';

/** The rows of a job against its template and Exchange's limits, in one pass. */

const settings = { dailyRecipientLimit: 10_000, maxMessageBytes: 35_000_000 };
const compiled = compileTemplate({
  subject: 'Hi {{name}}',
  body: 'Dear {{name}}',
  contentType: 'text',
});
const row = (to: string, extra: Partial<Row> = {}): Row => ({
  to,
  cc: [],
  variables: { name: to },
  ...extra,
});
const check = (
  rows: Array<Row | undefined>,
  options: { attachments?: number[]; settings?: typeof settings; inline?: boolean } = {},
) =>
  checkRecipients(
    {
      template:
        options.inline === false ? undefined : { subject: '', body: '', contentType: 'text' },
      recipients: rows,
    },
    compiled,
    options.attachments ?? [],
    true,
    options.settings ?? settings,
  );

describe('checkRecipients', () => {
  it('passes good rows and skips rows whose shape already failed', () => {
    expect(check([row('a@example.test'), undefined, row('b@example.test')])).toEqual([]);
  });

  it('names duplicates (ignoring case), too many recipients, long variables and missing fields', () => {
    const errors = check([
      row('a@example.test'),
      row('A@Example.test'),
      row('c@example.test', { cc: Array.from({ length: 500 }, (_, i) => `cc${i}@example.test`) }),
      row('d@example.test', { variables: { name: 'd', big: 'x'.repeat(16_000) } }),
      row('e@example.test', { variables: {} }),
    ]);
    expect(errors).toEqual([
      { path: 'recipients[1].to', message: 'duplicates recipients[0].to' },
      { path: 'recipients[2].cc', message: 'a message may have at most 500 recipients' },
      { path: 'recipients[3].variables', message: 'at most 16000 characters as JSON' },
      { path: 'recipients[4].variables.name', message: 'is used by the template but missing' },
    ]);
  });

  it('a daily limit under 500 bounds the recipients of one message', () => {
    const errors = check([row('a@example.test', { cc: ['b@example.test', 'c@example.test'] })], {
      settings: { ...settings, dailyRecipientLimit: 2 },
    });
    expect(errors).toEqual([
      { path: 'recipients[0].cc', message: 'a message may have at most 2 recipients' },
    ]);
  });

  it('measures each message as Exchange counts it, attachments in base64', () => {
    // 27 MB of attachments are about 36 MB encoded: over a 35 MB MaxSendSize.
    const errors = check([row('a@example.test')], { attachments: [27_000_000] });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('recipients[0]');
    expect(errors[0]!.message).toMatch(/35000000|35 ?MB/);
    expect(check([row('a@example.test')], { attachments: [20_000_000] })).toEqual([]);
  });

  it('names the limit on the list itself and caps the problems at MAX_REPORTED_ERRORS', () => {
    const many = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) =>
      row(`r${i}@example.test`, { variables: {} }),
    );
    const errors = check(many);
    expect(errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(errors[0]).toEqual({
      path: 'recipients',
      message: `at most ${MAX_RECIPIENTS} recipients per bulk send`,
    });
    expect(errors[1]!.path).toBe('recipients[0].variables.name');
  });

  it("names a stored template's problems by templateId", () => {
    const long = compileTemplate({ subject: '{{name}}', body: 'x', contentType: 'text' });
    const errors = checkRecipients(
      {
        template: undefined,
        recipients: [row('a@example.test', { variables: { name: 'x'.repeat(2000) } })],
      },
      long,
      [],
      true,
      { ...settings, maxMessageBytes: 1000 },
    );
    expect(errors.map((e) => e.path)).toEqual(['templateId']);
  });
});
