import { describe, expect, it, vi } from 'vitest';

import { loadConfig } from '../../src/config';
import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

/**
 * Issue #14 finding 4: a connect link must not attach a stranger's mailbox, nor swap the mailbox
 * behind an existing credential. Each test performs the attack through the real routes (Graph
 * sandbox identity with auto-consent, Azurite, the local host).
 */
const stack = useStack(() =>
  startTestStack({
    sandbox: { autoConsent: true, messagesPerUser: 1 },
    env: { SERVICE_NAMES: JSON.stringify({ svc: 'Acme Helpdesk' }) },
  }),
);

// The sandbox's first two people can sign in (the third is a shared mailbox).
const users = () => stack.sandbox.users.slice(0, 2);

/** Opens a connect link as a browser would (the sandbox signs in its first user, or the hinted one). */
async function openLink(credentialId: string, query = '', edit?: (url: URL) => void) {
  const link = await stack.api(`/api/credentials/${credentialId}/connect${query}`, {
    redirect: 'manual',
  });
  expect(link.status).toBe(302);
  const authorize = new URL(link.headers.get('location')!);
  edit?.(authorize);
  const back = await fetch(authorize, { redirect: 'manual' });
  const redirect = new URL(back.headers.get('location')!);
  return { authorize, callback: `${stack.host.url}/api/oauth/callback${redirect.search}` };
}

const stored = async (credentialId: string) => {
  const response = await stack.api(`/api/credentials/${credentialId}`);
  return response.status === 200
    ? ((await response.json()) as { account: { address: string } }).account.address.toLowerCase()
    : response.status;
};

const confirmationOf = (html: string) => /name="confirmation" value="([^"]+)"/.exec(html)?.[1];

function post(form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${stack.host.url}/api/oauth/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

describe('connect links are bound to a person (issue #14, finding 4)', () => {
  it('asks Microsoft to show the account picker and passes the login hint', async () => {
    const upn = users()[1]!.userPrincipalName;
    const { authorize } = await openLink('hinted', `?loginHint=${encodeURIComponent(upn)}`);
    expect(authorize.searchParams.get('prompt')).toBe('select_account');
    expect(authorize.searchParams.get('login_hint')).toBe(upn);
    const consent = loadConfig({ CONNECT_PROMPT: 'consent' }, { localBaseUrl: 'http://x' });
    expect(consent.connectPrompt).toBe('consent');
    expect(() => loadConfig({ CONNECT_PROMPT: 'none' }, { localBaseUrl: 'http://x' })).toThrow(
      /CONNECT_PROMPT/,
    );
  });

  it('opening a link stores nothing: the owner sees who asks for which mailbox and must confirm', async () => {
    const victim = users()[0]!.userPrincipalName.toLowerCase();
    const { callback } = await openLink('stranger');
    const page = await fetch(callback);
    const html = await page.text();
    expect(page.status).toBe(200);
    // Attack on main: the GET alone stored the signed-in person's mailbox as the caller's.
    expect(await stored('stranger')).toBe(404);
    expect(html).toContain('Acme Helpdesk');
    expect(html.toLowerCase()).toContain(victim);
    expect(html).toMatch(/<form method="post" action="confirm">/);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/api\/oauth/);

    // Cancel: nothing stored, and the confirmation is spent.
    const confirmation = confirmationOf(html)!;
    const jar = cookie.split(';')[0]!;
    const cancelled = await post({ confirmation, decision: 'cancel' }, { cookie: jar });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.text()).toContain('Nothing was connected');
    expect(await stored('stranger')).toBe(404);
    const after = await post({ confirmation, decision: 'connect' }, { cookie: jar });
    expect(after.status).toBe(400);
    expect(await stored('stranger')).toBe(404);
  });

  it('refuses a forged confirmation: no cookie, another token, another site, a GET', async () => {
    const { callback } = await openLink('csrf');
    const page = await fetch(callback);
    const html = await page.text();
    const confirmation = confirmationOf(html)!;
    const jar = page.headers.get('set-cookie')!.split(';')[0]!;
    const [id] = confirmation.split('.');

    expect((await post({ confirmation, decision: 'connect' })).status).toBe(400); // no cookie
    const wrongToken = `${id}.${'A'.repeat(32)}`;
    expect(
      (await post({ confirmation: wrongToken, decision: 'connect' }, { cookie: jar })).status,
    ).toBe(400);
    const otherBrowser = `${jar.split('=')[0]}=${'B'.repeat(32)}`;
    expect(
      (await post({ confirmation, decision: 'connect' }, { cookie: otherBrowser })).status,
    ).toBe(400);
    const crossSite = await post(
      { confirmation, decision: 'connect' },
      { cookie: jar, 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
    const get = await fetch(
      `${stack.host.url}/api/oauth/confirm?confirmation=${encodeURIComponent(confirmation)}&decision=connect`,
      { headers: { cookie: jar } },
    );
    expect(get.status).toBe(405);
    const json = await fetch(`${stack.host.url}/api/oauth/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: jar },
      body: JSON.stringify({ confirmation, decision: 'connect' }),
    });
    expect(json.status).toBe(415);
    expect(await stored('csrf')).toBe(404);

    // The failed attempts did not spend the owner's confirmation.
    const ok = await post({ confirmation, decision: 'connect' }, { cookie: jar });
    expect(ok.status).toBe(201);
    expect(await ok.text()).toContain('Mailbox connected');
    expect(await stored('csrf')).toBe(users()[0]!.userPrincipalName.toLowerCase());
    const replay = await post({ confirmation, decision: 'connect' }, { cookie: jar });
    expect(replay.status).toBe(400);
  });

  it('cannot swap the mailbox behind an existing credential', async () => {
    const owner = users()[1]!.userPrincipalName;
    await stack.connect('taken', { upn: owner });
    // The link carries no hint; the browser that opens it is signed in as someone else.
    const { callback } = await openLink('taken');
    const page = await fetch(callback);
    const html = await page.text();
    expect(page.status).toBe(403);
    expect(html).toContain('This link is for another mailbox');
    expect(html).toContain('Nothing was stored');
    expect(confirmationOf(html)).toBeUndefined();
    expect(await stored('taken')).toBe(owner.toLowerCase());
    const api = await fetch((await openLink('taken')).callback, {
      headers: { accept: 'application/json' },
    });
    expect(api.status).toBe(403);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    expect(await stored('taken')).toBe(owner.toLowerCase());
  });

  it('refuses an account other than the login hint, even when the hint is removed from the link', async () => {
    const meant = users()[1]!.userPrincipalName;
    const { callback } = await openLink(
      'forhint',
      `?loginHint=${encodeURIComponent(meant)}`,
      (url) => url.searchParams.delete('login_hint'), // the browser signs in users[0] instead
    );
    const page = await fetch(callback);
    expect(page.status).toBe(403);
    expect(await page.text()).toContain(meant);
    expect(await stored('forhint')).toBe(404);
    // A hint that names another mailbox than the credential's is refused at once.
    await stack.connect('hinttaken', { upn: users()[0]!.userPrincipalName });
    const refused = await stack.api(
      `/api/credentials/hinttaken/connect?loginHint=${encodeURIComponent(meant)}`,
      { redirect: 'manual' },
    );
    expect(refused.status).toBe(400);
    // A hint is an address by the one rule, or no link is made.
    for (const hint of ['a@b', 'adele@contoso.example/../me']) {
      const bad = await stack.api(
        `/api/credentials/badhint/connect?loginHint=${encodeURIComponent(hint)}`,
        { redirect: 'manual' },
      );
      expect(bad.status, hint).toBe(400);
      expect(((await bad.json()) as { errors: Array<{ path: string }> }).errors[0]!.path).toBe(
        'query.loginHint',
      );
    }
  });

  it('a link expires after 10 minutes and works once', async () => {
    const { callback } = await openLink('late');
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 10 * 60_000 + 1_000);
    let page: Response;
    try {
      page = await fetch(callback);
    } finally {
      clock.mockRestore();
    }
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('This connect link has expired');
    expect(await stored('late')).toBe(404);

    const once = await openLink('once');
    expect((await fetch(once.callback)).status).toBe(200);
    const again = await fetch(once.callback);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This connect link was already used');
  });

  it('a confirmation left open for more than 10 minutes is refused', async () => {
    const { callback } = await openLink('slow');
    const page = await fetch(callback);
    const confirmation = confirmationOf(await page.text())!;
    const jar = page.headers.get('set-cookie')!.split(';')[0]!;
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 10 * 60_000 + 1_000);
    let late: Response;
    try {
      late = await post({ confirmation, decision: 'connect' }, { cookie: jar });
    } finally {
      clock.mockRestore();
    }
    expect(late.status).toBe(400);
    expect(await late.text()).toContain('expired');
    expect(await stored('slow')).toBe(404);
  });
});
