import { describe, expect, it } from 'vitest';

import { everyPage, idempotencyHeader, mailboxQuery, urlQuery } from '../../src/client/transport';

describe('client transport helpers', () => {
  it('spells query values as the URL does, leaving out what is undefined', () => {
    expect(
      urlQuery({
        unreadOnly: true,
        hasAttachments: false,
        receivedAfter: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        top: 25,
        folder: 'inbox',
        cursor: undefined,
      }),
    ).toEqual({
      unreadOnly: 'true',
      hasAttachments: 'false',
      receivedAfter: '2026-01-02T03:04:05.000Z',
      top: 25,
      folder: 'inbox',
    });
    expect(urlQuery(undefined)).toEqual({});
  });

  it('follows nextCursor until there is none, and asks no page after a break', async () => {
    const asked: Array<string | undefined> = [];
    const pages = [{ nextCursor: 'b' }, { nextCursor: 'c' }, { nextCursor: null }];
    const page = (cursor: string | undefined) => {
      asked.push(cursor);
      return Promise.resolve(pages[asked.length - 1]!);
    };
    const seen = [];
    for await (const p of everyPage(page)) seen.push(p);
    expect(seen).toEqual(pages);
    expect(asked).toEqual([undefined, 'b', 'c']);
    asked.length = 0;
    for await (const _ of everyPage(page)) break;
    expect(asked).toEqual([undefined]);
  });

  it('generates an Idempotency-Key unless one is given or refused', () => {
    const a = idempotencyHeader({})['Idempotency-Key'];
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(idempotencyHeader({})['Idempotency-Key']).not.toBe(a);
    expect(idempotencyHeader({ idempotencyKey: 'k1' })).toEqual({ 'Idempotency-Key': 'k1' });
    expect(idempotencyHeader({ idempotencyKey: false })).toEqual({});
  });

  it('names a shared mailbox in the query only when one is given', () => {
    expect(mailboxQuery({})).toEqual({});
    expect(mailboxQuery({ mailbox: 'shared@contoso.example' })).toEqual({
      mailbox: 'shared@contoso.example',
    });
  });
});
