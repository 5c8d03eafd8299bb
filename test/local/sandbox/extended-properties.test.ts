import { describe, expect, it, vi } from 'vitest';
import { call, token, value, withSandbox } from '../../support/sandbox';
import { useStack } from '../../support/use-stack';

const COLOR = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name Color';
const PAINT = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name Paint';
const SEND_ID = 'String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name SendId';
const q = encodeURIComponent;

describe('single-value extended properties on messages', () => {
  let tok: string;
  const sb = useStack(
    () => withSandbox({ messagesPerUser: 5 }),
    async () => {
      tok = await token(sb);
    },
  );

  const expand = (id: string) =>
    `$expand=singleValueExtendedProperties(${q(`$filter=id eq '${id}'`)})`;

  it('creates them with a draft, expands them by id and leaves them out of the default view', async () => {
    const created = await call(sb, tok, 'POST', '/v1.0/me/messages', {
      body: {
        subject: 'Tagged',
        singleValueExtendedProperties: [
          { id: COLOR, value: 'Green' },
          { id: 'Integer {66f5a359-4659-4830-9070-00047ec6ac6e} Id 0x8012', value: '12' },
        ],
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).not.toHaveProperty('singleValueExtendedProperties');
    const id = created.json.id as string;

    // The GUID is matched whatever its letter case; the id comes back as it was created.
    const got = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${id}?${expand(COLOR.replace('66f5a359', '66F5A359'))}`,
    );
    expect(got.json.singleValueExtendedProperties).toEqual([{ id: COLOR, value: 'Green' }]);
    // The string name is case-sensitive: another name, nothing expanded (and the property left out).
    const other = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${id}?${expand(COLOR.replace('Color', 'color'))}`,
    );
    expect(other.status).toBe(200);
    expect(other.json).not.toHaveProperty('singleValueExtendedProperties');

    const both = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${id}?$expand=attachments,singleValueExtendedProperties(${q(
        `$filter=id eq '${COLOR}' or id eq 'Integer {66f5a359-4659-4830-9070-00047ec6ac6e} Id 32786'`,
      )})`,
    );
    expect(both.json.attachments).toEqual([]);
    expect(both.json.singleValueExtendedProperties).toEqual([
      { id: COLOR, value: 'Green' },
      { id: 'Integer {66f5a359-4659-4830-9070-00047ec6ac6e} Id 0x8012', value: '12' },
    ]);

    // PATCH replaces the value of an existing property and adds new ones.
    await call(sb, tok, 'PATCH', `/v1.0/me/messages/${id}`, {
      body: { singleValueExtendedProperties: [{ id: COLOR, value: 'Blue' }] },
    });
    const patched = await call(sb, tok, 'GET', `/v1.0/me/messages/${id}?${expand(COLOR)}`);
    expect(patched.json.singleValueExtendedProperties).toEqual([{ id: COLOR, value: 'Blue' }]);
  });

  it('rejects ids outside the documented formats, bad values and an expand without a filter', async () => {
    const post = (properties: unknown) =>
      call(sb, tok, 'POST', '/v1.0/me/messages', {
        body: { subject: 'x', singleValueExtendedProperties: properties },
      });
    for (const id of [
      'Color',
      'string {66f5a359-4659-4830-9070-00047ec6ac6e} Name Color',
      'String 66f5a359-4659-4830-9070-00047ec6ac6e Name Color',
      'StringArray {66f5a359-4659-4830-9070-00047ec6ac6e} Name Colors',
      'String 0x8001001F',
    ]) {
      expect((await post([{ id, value: 'x' }])).json, id).toMatchObject({
        error: { code: 'ErrorInvalidExtendedProperty' },
      });
    }
    expect(
      (await post([{ id: 'Integer {66f5a359-4659-4830-9070-00047ec6ac6e} Name N', value: 'ten' }]))
        .json,
    ).toMatchObject({ error: { code: 'ErrorInvalidExtendedPropertyValue' } });
    expect((await post([{ id: COLOR }])).status).toBe(400);
    expect((await post({ id: COLOR, value: 'x' })).status).toBe(400);
    expect(
      (
        await call(sb, tok, 'POST', '/v1.0/me/messages', {
          body: { multiValueExtendedProperties: [] },
        })
      ).json,
    ).toMatchObject({ error: { code: 'RequestBodyRead' } });

    const any = sb.control.messages('adele@contoso.test', 'inbox')[0]!;
    const bare = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${any.id}?$expand=singleValueExtendedProperties`,
    );
    expect(bare.status).toBe(400);
    const notId = await call(
      sb,
      tok,
      'GET',
      `/v1.0/me/messages/${any.id}?$expand=singleValueExtendedProperties(${q("$filter=value eq 'x'")})`,
    );
    expect(notId.json).toMatchObject({ error: { code: 'ErrorInvalidUrlQueryFilter' } });
  });

  it('filters messages with singleValueExtendedProperties/Any on id and value', async () => {
    const make = async (color: string) =>
      (
        await call(sb, tok, 'POST', '/v1.0/me/messages', {
          body: {
            subject: `Paint ${color}`,
            singleValueExtendedProperties: [{ id: PAINT, value: color }],
          },
        })
      ).json.id as string;
    const green = await make('Green');
    const lightGreen = await make('Light green');
    const red = await make('Red');
    const list = async (filter: string) => {
      const r = await call(
        sb,
        tok,
        'GET',
        `/v1.0/me/mailFolders/drafts/messages?$top=50&$filter=${q(filter)}`,
      );
      expect(r.status, filter).toBe(200);
      return value(r).map((m) => m.id);
    };
    expect(
      await list(
        `singleValueExtendedProperties/Any(ep: ep/id eq '${PAINT}' and ep/value eq 'green')`,
      ),
    ).toEqual([green]);
    expect(
      new Set(
        await list(
          `singleValueExtendedProperties/any(ep:ep/Id eq '${PAINT}' and contains(ep/Value, 'green'))`,
        ),
      ),
    ).toEqual(new Set([green, lightGreen]));
    expect(
      await list(
        `singleValueExtendedProperties/Any(ep: ep/id eq '${PAINT}' and startswith(ep/value, 'r'))`,
      ),
    ).toEqual([red]);
    expect(
      new Set(
        await list(
          `singleValueExtendedProperties/Any(ep: ep/id eq '${PAINT}' and ep/value ne 'Red')`,
        ),
      ),
    ).toEqual(new Set([green, lightGreen]));
    expect(
      new Set(await list(`singleValueExtendedProperties/Any(ep: ep/id eq '${PAINT}')`)),
    ).toEqual(new Set([green, lightGreen, red]));
    // Exchange needs to know which property: a lambda without the id (or with anything else) is refused.
    for (const filter of [
      "singleValueExtendedProperties/Any(ep: ep/value eq 'Green')",
      `singleValueExtendedProperties/all(ep: ep/id eq '${PAINT}')`,
      'singleValueExtendedProperties/any()',
      `singleValueExtendedProperties/Any(ep: ep/id eq '${PAINT}' or ep/value eq 'Red')`,
    ]) {
      const r = await call(sb, tok, 'GET', `/v1.0/me/messages?$filter=${q(filter)}`);
      expect(r.json, filter).toMatchObject({ error: { code: 'ErrorInvalidUrlQueryFilter' } });
    }
  });

  it('sendMail keeps them on the Sent Items copy', async () => {
    const r = await call(sb, tok, 'POST', '/v1.0/me/sendMail', {
      body: {
        message: {
          subject: 'Tracked send',
          toRecipients: [{ emailAddress: { address: 'megan@contoso.test' } }],
          singleValueExtendedProperties: [{ id: SEND_ID, value: 'send-42' }],
        },
      },
    });
    expect(r.status).toBe(202);
    const find = () =>
      call(
        sb,
        tok,
        'GET',
        `/v1.0/me/mailFolders/sentitems/messages?$filter=${q(
          `singleValueExtendedProperties/Any(ep: ep/id eq '${SEND_ID}' and ep/value eq 'send-42')`,
        )}&${expand(SEND_ID)}`,
      );
    // The copy "may take time" to appear.
    const found = await vi.waitFor(async () => {
      const answer = await find();
      expect(value(answer)).toHaveLength(1);
      return answer;
    });
    expect(value(found)[0]).toMatchObject({
      subject: 'Tracked send',
      singleValueExtendedProperties: [{ id: SEND_ID, value: 'send-42' }],
    });
  });
});
