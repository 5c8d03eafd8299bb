import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { type LocalProduct, startLocalProduct } from '../../src/local/start';
import { freePort } from '../support/ports';

/**
 * The connect flow as a person clicks through it: `npm start`'s product (Graph sandbox with its
 * sign-in page, Azurite, the local host) and Debian's Chromium with JavaScript off. Screenshots
 * land in test-artifacts/browser/ (git-ignored).
 */
const root = path.resolve(__dirname, '../..');
const shots = path.join(root, 'test-artifacts', 'browser');

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`])
        .toString()
        .trim();
    } catch {
      // try the next name
    }
  }
  throw new Error('Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)');
}

let product: LocalProduct;
let browser: Browser;
let context: BrowserContext;
let dataDir: string;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  dataDir = await mkdtemp(path.join(tmpdir(), 'omf-browser-'));
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(CLIENT_|API_|AzureWebJobs|GRAPH_|AUTHORITY_|TENANT_|PUBLIC_|SERVICE_)/.test(k),
    ),
  );
  product = await startLocalProduct({
    env: {
      ...env,
      PORT: String(await freePort()),
      LOCAL_DATA_DIR: dataDir,
      SERVICE_NAMES: JSON.stringify({ dev: 'Contoso Helpdesk' }),
    },
    projectDir: root,
  });
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  // The pages must work without JavaScript.
  context = await browser.newContext({
    javaScriptEnabled: false,
    viewport: { width: 900, height: 760 },
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await product?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const api = (pathAndQuery: string) =>
  fetch(`${product.url}${pathAndQuery}`, {
    headers: { 'x-api-key': product.apiKey! },
    redirect: 'manual',
  });

/** What the service hands its user: the Location of `GET credentials/{id}/connect`. */
async function connectLink(credentialId: string): Promise<string> {
  const response = await api(`/api/credentials/${credentialId}/connect`);
  expect(response.status).toBe(302);
  return response.headers.get('location')!;
}

const megan = 'megan@contoso.test';

/** The sandbox's sign-in page: pick the account and accept. */
async function signIn(page: Page, link: string, upn: string, shot?: string) {
  await page.goto(link);
  await page.check(`input[name="user"][value="${upn}"]`);
  if (shot) await page.screenshot({ path: path.join(shots, shot), fullPage: true });
  await page.click('#accept');
}

/** lang, one h1 equal to the title, a main landmark, named controls, no script. */
async function expectAccessible(page: Page, heading: string) {
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  expect(await page.locator('h1').allInnerTexts()).toEqual([heading]);
  expect(await page.title()).toBe(heading);
  expect(await page.locator('main').count()).toBe(1);
  expect(await page.locator('script').count()).toBe(0);
  const tree = await page.locator('main').ariaSnapshot();
  expect(tree).toContain(`- heading "${heading}" [level=1]`);
  for (const button of await page.locator('button').all()) {
    expect((await button.innerText()).trim()).not.toBe('');
  }
  return tree;
}

async function stored(credentialId: string) {
  const response = await api(`/api/credentials/${credentialId}`);
  if (response.status !== 200) return response.status;
  return ((await response.json()) as { account: { address: string } }).account.address;
}

describe('the connect flow in Chromium', () => {
  it('connects a mailbox only after its owner confirms on a page naming the service', async () => {
    const page = await context.newPage();
    await signIn(page, await connectLink('mine'), megan, '01-sandbox-sign-in.png');

    await page.waitForSelector('h1');
    expect(new URL(page.url()).pathname).toBe('/api/oauth/callback');
    const tree = await expectAccessible(page, 'Connect your mailbox?');
    expect(tree).toContain('- button "Connect mailbox"');
    expect(tree).toContain('- button "Cancel"');
    expect(await page.locator('#service').innerText()).toContain('Contoso Helpdesk');
    expect(await page.locator('#mailbox').innerText()).toBe(megan);
    await page.screenshot({ path: path.join(shots, '02-confirm.png'), fullPage: true });
    expect(await stored('mine')).toBe(404);

    const [cookie] = (await context.cookies()).filter((c) => c.name.startsWith('omf_connect_'));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/oauth' });

    // Keyboard order: the decision buttons, the safe choice reachable next.
    await page.keyboard.press('Tab');
    expect(await page.locator('#connect').evaluate((b) => b === document.activeElement)).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.locator('#cancel').evaluate((b) => b === document.activeElement)).toBe(true);

    await page.click('#connect');
    await page.waitForSelector('h1');
    await expectAccessible(page, 'Mailbox connected');
    expect(await page.locator('#mailbox').innerText()).toBe(megan);
    await page.screenshot({ path: path.join(shots, '03-connected.png'), fullPage: true });
    expect(await stored('mine')).toBe(megan);

    // Back to the callback URL: the link worked once.
    await page.goBack();
    await page.reload();
    await expectAccessible(page, 'This connect link was already used');
    await page.screenshot({ path: path.join(shots, '04-used.png'), fullPage: true });
    await page.close();
  });

  it('cancelling stores nothing', async () => {
    const page = await context.newPage();
    await signIn(page, await connectLink('maybe'), megan);
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.waitForSelector('h1');
    await expectAccessible(page, 'Nothing was connected');
    await page.screenshot({ path: path.join(shots, '05-cancelled.png'), fullPage: true });
    expect(await stored('maybe')).toBe(404);
    await page.close();
  });

  it("refuses another account than the one behind the credential, and keeps the owner's", async () => {
    const owner = await stored('demo'); // npm start connects the sandbox's first user as `demo`
    expect(owner).not.toBe(megan);
    const page = await context.newPage();
    await signIn(page, await connectLink('demo'), megan);
    await page.waitForSelector('h1');
    await expectAccessible(page, 'This link is for another mailbox');
    expect(await page.locator('#actual').innerText()).toBe(megan);
    await page.screenshot({ path: path.join(shots, '06-mismatch.png'), fullPage: true });
    expect(await page.locator('form').count()).toBe(0);
    expect(await stored('demo')).toBe(owner);
    await page.close();
  });

  it('explains an expired link', async () => {
    // A link made 11 minutes ago (the clock of this process, where the product runs).
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now - 11 * 60_000);
    let link: string;
    try {
      link = await product.app.services.credentials.connectUrl({
        serviceId: 'dev',
        credentialId: 'late',
      });
    } finally {
      clock.mockRestore();
    }
    const page = await context.newPage();
    await signIn(page, link, megan);
    await page.waitForSelector('h1');
    await expectAccessible(page, 'This connect link has expired');
    await page.screenshot({ path: path.join(shots, '07-expired.png'), fullPage: true });
    expect(await stored('late')).toBe(404);
    await page.close();
  });
});
