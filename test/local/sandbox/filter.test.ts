import { describe, expect, it } from 'vitest';
import { GraphError } from '../../../src/local/sandbox/errors';
import { MESSAGE_SCHEMA } from '../../../src/local/sandbox/graph/message-schema';
import { compileFilter, parseFilter, tokenize } from '../../../src/local/sandbox/odata/filter';
import type { StoredMessage } from '../../../src/local/sandbox/store';

const msg = (over: Partial<StoredMessage>): StoredMessage =>
  ({
    subject: '',
    body: { contentType: 'text', content: '' },
    isRead: false,
    importance: 'normal',
    attachments: [],
    from: null,
    sender: null,
    toRecipients: [],
    ccRecipients: [],
    bccRecipients: [],
    replyTo: [],
    categories: [],
    flag: { flagStatus: 'notFlagged' },
    receivedMs: Date.parse('2026-03-01T10:00:00Z'),
    sentMs: null,
    createdMs: 0,
    lastModifiedMs: 0,
    folder: { id: 'f' },
    ...over,
  }) as StoredMessage;

const matches = (filter: string, m: StoredMessage): boolean =>
  compileFilter(filter, MESSAGE_SCHEMA).predicate(m);
const errorOf = (filter: string): GraphError => {
  try {
    compileFilter(filter, MESSAGE_SCHEMA);
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error(`no error for ${filter}`);
};

describe('$filter parser', () => {
  it('tokenizes string literals with doubled quotes', () => {
    expect(tokenize("subject eq 'it''s ok'")).toMatchObject([
      { t: 'id', v: 'subject' },
      { t: 'id', v: 'eq' },
      { t: 'str', v: "it's ok" },
    ]);
    expect(matches("subject eq 'It''s OK'", msg({ subject: "it's ok" }))).toBe(true);
  });

  it('gives and precedence over or, and parentheses override it', () => {
    const ast = parseFilter('isRead eq true or isRead eq false and hasAttachments eq true');
    expect(ast.k).toBe('or');
    const unread = msg({ isRead: false });
    expect(matches('isRead eq true or isRead eq false and hasAttachments eq true', unread)).toBe(
      false,
    );
    expect(matches('(isRead eq true or isRead eq false) and hasAttachments eq false', unread)).toBe(
      true,
    );
    expect(matches('not (isRead eq true)', unread)).toBe(true);
    expect(matches('not isRead eq true', unread)).toBe(true);
  });

  it('compares unquoted ISO dates, enums, nested addresses, lambdas and string functions', () => {
    const m = msg({
      subject: 'Quarterly Budget',
      importance: 'high',
      from: { emailAddress: { name: 'Dana', address: 'dana@fabrikam.example' } },
      toRecipients: [{ emailAddress: { address: 'adele@contoso.test' } }],
    });
    expect(
      matches(
        'receivedDateTime ge 2026-03-01T00:00:00Z and receivedDateTime lt 2026-03-02T00:00:00Z',
        m,
      ),
    ).toBe(true);
    expect(matches('receivedDateTime gt 2026-03-01T10:00:00Z', m)).toBe(false);
    expect(matches("importance eq 'high'", m)).toBe(true);
    expect(matches("from/emailAddress/address eq 'DANA@fabrikam.example'", m)).toBe(true);
    expect(matches("toRecipients/any(r: r/emailAddress/address eq 'adele@contoso.test')", m)).toBe(
      true,
    );
    expect(matches("toRecipients/any(r: r/emailAddress/address eq 'megan@contoso.test')", m)).toBe(
      false,
    );
    // Graph's extended-property examples write the operator `Any`.
    expect(matches("toRecipients/Any(r: r/emailAddress/address eq 'adele@contoso.test')", m)).toBe(
      true,
    );
    expect(matches("contains(subject, 'budget') and startswith(subject, 'quarterly')", m)).toBe(
      true,
    );
  });

  it('reports unknown properties, unknown functions, type mismatches and syntax errors as 400', () => {
    expect(errorOf("foo eq 'x'")).toMatchObject({
      status: 400,
      message: "Could not find a property named 'foo' on type 'microsoft.graph.message'.",
    });
    expect(errorOf("from/emailAddress/bogus eq 'x'").message).toContain("'bogus'");
    expect(errorOf("frobnicate(subject, 'x')").message).toContain(
      "unknown function with name 'frobnicate'",
    );
    expect(errorOf("endswith(subject, 'x')")).toMatchObject({
      status: 400,
      code: 'ErrorInvalidUrlQueryFilter',
    });
    expect(errorOf("receivedDateTime ge '2026-01-01'").message).toContain('incompatible types');
    expect(errorOf('isRead eq').message).toContain('Syntax error');
    expect(errorOf("subject eq 'unterminated").message).toContain('unterminated string literal');
    expect(errorOf('(isRead eq true').status).toBe(400);
    expect(errorOf('subject').message).toContain('boolean');
  });
});
