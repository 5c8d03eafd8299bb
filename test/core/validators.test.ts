import { describe, expect, it } from 'vitest';

import * as z from 'zod';

import {
  EMAIL_PATTERN,
  emailAddress,
  idSchema,
  isEmailAddress,
  isId,
} from '../../src/core/validators';

describe('the one e-mail address rule', () => {
  it.each([
    'megan@contoso.com',
    'first.last+tag@mail.contoso.co.uk',
    "o'brien@contoso.test",
    'support_team-1@contoso.onmicrosoft.com',
    `${'a'.repeat(64)}@contoso.com`,
  ])('accepts %s', (value) => {
    expect(isEmailAddress(value)).toBe(true);
  });

  it.each([
    ['no at sign', 'megan'],
    ['no domain dot', 'megan@localhost'],
    ['a path separator', 'a/b@contoso.com'],
    ['a percent escape', 'a%2f@contoso.com'],
    ['a query', 'a?b@contoso.com'],
    ['a space', 'a b@contoso.com'],
    ['a leading dot', '.a@contoso.com'],
    ['two dots', 'a..b@contoso.com'],
    ['two at signs', 'a@b@contoso.com'],
    ['a 65-character local part', `${'a'.repeat(65)}@contoso.com`],
    ['more than 254 characters', `a@${'b'.repeat(250)}.com`],
    ['a header injection', 'a@contoso.com\r\nBcc: x@evil.test'],
  ])('refuses %s', (_why, value) => {
    expect(isEmailAddress(value)).toBe(false);
  });

  it('stays fast on long hostile input (bounded before the pattern runs)', () => {
    const hostile = `${'a.'.repeat(100_000)}@`;
    expect(isEmailAddress(hostile)).toBe(false);
  });

  it("is zod's own e-mail format, copied so that config can check addresses without loading zod", () => {
    expect(EMAIL_PATTERN.source).toBe(z.regexes.email.source);
    expect(EMAIL_PATTERN.flags).toBe(z.regexes.email.flags);
  });

  it('names what the address is for in its message', () => {
    const result = emailAddress('must be a mailbox address (UPN)').safeParse('nobody');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('must be a mailbox address (UPN)');
    expect(emailAddress().safeParse('x')).toMatchObject({
      error: { issues: [{ message: 'must be an email address' }] },
    });
  });
});

describe('the one id rule', () => {
  it.each(['c1', 'A-Z_0-9', 'x'.repeat(64)])('accepts %s', (value) => {
    expect(isId(value)).toBe(true);
    expect(idSchema.safeParse(value).success).toBe(true);
  });

  it.each(['', 'x'.repeat(65), 'a.b', 'a/b', '__proto__ ', 'é'])('refuses %j', (value) => {
    expect(isId(value)).toBe(false);
    expect(idSchema.safeParse(value).error?.issues[0]?.message).toBe(
      'must match [A-Za-z0-9_-]{1,64}',
    );
  });
});
