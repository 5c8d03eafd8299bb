import { describe, expect, it } from 'vitest';
import * as z from 'zod';

import { InvalidCursorError } from '../../src/core/errors';
import { createCursorCodec } from '../../src/graph/cursor';

const schema = z.strictObject({ link: z.string(), n: z.number() });
const binding = { serviceId: 'svc', credentialId: 'c1', mailbox: undefined };
const key = Buffer.alloc(32, 7);

function codec(now = () => Date.now(), k = key) {
  return createCursorCodec({ key: () => Promise.resolve(k), schema, now, ttlMs: 60_000 });
}

/** Flips one character of a base64url string. */
const flip = (s: string, at: number) =>
  s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('cursor codec', () => {
  it('round-trips the state for the same binding', async () => {
    const c = codec();
    const token = await c.seal(binding, { link: 'https://graph/x?$skip=10', n: 1 });
    expect(token).toMatch(/^c1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(await c.open(binding, token)).toEqual({ link: 'https://graph/x?$skip=10', n: 1 });
    // Mailbox comparison ignores case (UPNs are case-insensitive).
    const shared = { ...binding, mailbox: 'Support@Contoso.test' };
    const t2 = await c.seal(shared, { link: 'l', n: 2 });
    expect(await c.open({ ...binding, mailbox: 'support@contoso.test' }, t2)).toEqual({
      link: 'l',
      n: 2,
    });
  });

  it('refuses a cursor issued to another service, credential or mailbox', async () => {
    const c = codec();
    const token = await c.seal(binding, { link: 'l', n: 1 });
    for (const other of [
      { ...binding, serviceId: 'other' },
      { ...binding, credentialId: 'c2' },
      { ...binding, mailbox: 'support@contoso.test' },
    ]) {
      await expect(c.open(other, token)).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });

  it('refuses altered payloads and signatures, other keys and garbage', async () => {
    const c = codec();
    const token = await c.seal(binding, { link: 'l', n: 1 });
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ exp: 9e9, state: { link: 'https://evil', n: 1 } }),
    ).toString('base64url');
    for (const bad of [
      `${v}.${flip(payload, 3)}.${sig}`,
      `${v}.${payload}.${flip(sig, 5)}`,
      `${v}.${forged}.${sig}`,
      `c2.${payload}.${sig}`,
      `${v}.${payload}`,
      'not-a-cursor',
      '',
      `${v}.${payload}.${sig}`.repeat(300),
      `${v}.${payload}.${sig}!`,
    ]) {
      await expect(c.open(binding, bad)).rejects.toBeInstanceOf(InvalidCursorError);
    }
    await expect(codec(undefined, Buffer.alloc(32, 8)).open(binding, token)).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it('refuses an expired cursor', async () => {
    let now = 1_000_000;
    const c = codec(() => now);
    const token = await c.seal(binding, { link: 'l', n: 1 });
    now += 59_000;
    await expect(c.open(binding, token)).resolves.toBeDefined();
    now += 2_000;
    await expect(c.open(binding, token)).rejects.toThrow(/expired/);
  });

  it('refuses a validly signed payload of the wrong shape', async () => {
    const loose = createCursorCodec({ key: () => Promise.resolve(key), schema: z.unknown() });
    const token = await loose.seal(binding, { link: 42 });
    await expect(codec().open(binding, token)).rejects.toBeInstanceOf(InvalidCursorError);
  });
});
