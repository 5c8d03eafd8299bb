import { describe, expect, it } from 'vitest';

import { messageFilter } from '../../src/graph/messages';
import { andFilter, dateTimeLiteral, searchPhrase, stringLiteral } from '../../src/graph/odata';
import { tokenize } from '../../src/local/sandbox/odata/filter';

const HOSTILE = "x' or isRead eq true or subject eq '";

describe('OData builder', () => {
  it('doubles single quotes so input stays one string literal', () => {
    expect(stringLiteral("O'Brien")).toBe("'O''Brien'");
    expect(stringLiteral(HOSTILE)).toBe("'x'' or isRead eq true or subject eq '''");
  });

  it('keeps hostile input inside one literal: the filter has exactly the clauses we built', () => {
    const filter = messageFilter({ subject: HOSTILE, from: "a'b@x.test", unread: true })!;
    expect(filter).toBe(
      "receivedDateTime ge 1900-01-01T00:00:00Z and isRead eq false and from/emailAddress/address eq 'a''b@x.test' and contains(subject, 'x'' or isRead eq true or subject eq ''')",
    );
    // An OData tokenizer sees our three `and`s and the hostile text as single string tokens.
    const tokens = tokenize(filter);
    const words = tokens.filter((t) => t.t === 'id').map((t) => t.v);
    expect(words.filter((w) => w === 'or')).toEqual([]);
    const strings = tokens.filter((t) => t.t === 'str').map((t) => t.v);
    expect(strings).toEqual(["a'b@x.test", HOSTILE]);
  });

  it('leads with receivedDateTime, the $orderby property, as Graph requires', () => {
    const after = new Date('2026-01-01T00:00:00Z');
    const before = new Date('2026-02-01T12:30:00.250Z');
    expect(
      messageFilter({ hasAttachments: false, receivedAfter: after, receivedBefore: before }),
    ).toBe(
      'receivedDateTime ge 2026-01-01T00:00:00Z and receivedDateTime lt 2026-02-01T12:30:00.250Z and hasAttachments eq false',
    );
    expect(messageFilter({ receivedBefore: after })).toBe(
      'receivedDateTime ge 1900-01-01T00:00:00Z and receivedDateTime lt 2026-01-01T00:00:00Z',
    );
    expect(messageFilter({})).toBeUndefined();
    expect(andFilter([])).toBeUndefined();
  });

  it('writes dates as unquoted UTC and refuses invalid ones', () => {
    expect(dateTimeLiteral(new Date('2026-03-04T05:06:07+02:00'))).toBe('2026-03-04T03:06:07Z');
    expect(() => dateTimeLiteral(new Date('nope'))).toThrow(RangeError);
  });

  it('turns search text into one escaped KQL phrase', () => {
    expect(searchPhrase('budget review')).toBe('"\\"budget review\\""');
    expect(searchPhrase('a" OR from:evil \\ b')).toBe('"\\"a OR from:evil b\\""');
    expect(searchPhrase(' " \\ ')).toBeUndefined();
  });
});
