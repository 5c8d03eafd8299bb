import {
  Client,
  type Context,
  HTTPMessageHandler,
  type Middleware,
  PageIterator,
  type PageCollection,
  RetryHandler,
} from '@microsoft/microsoft-graph-client';

import { createLogger } from '../src/core/logger';
import { type CredentialKey } from '../src/credentials/types';
import { budgetSignal } from '../src/core/abort';
import { createGraphFactory, type GraphFactory } from '../src/graph/client';
import { createCursorCodec } from '../src/graph/cursor';
import { createFolderReader } from '../src/graph/folders';
import { createMessageReader, MESSAGE_FIELDS, messageCursorSchema } from '../src/graph/messages';
import { type Sandbox, startSandbox } from '../src/local/sandbox';
import { type BenchResult } from './result';

const UPN = 'adele@contoso.test';
const SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite'];
const log = createLogger(() => undefined);
const key: CredentialKey = { serviceId: 'bench', credentialId: 'c1' };

/** Counts HTTP requests and response bytes going through the process's fetch. */
export function meterFetch(): { requests: number; bytes: number; restore(): void } {
  const original = globalThis.fetch;
  const meter = {
    requests: 0,
    bytes: 0,
    restore: () => {
      globalThis.fetch = original;
    },
  };
  globalThis.fetch = async (input, init) => {
    meter.requests++;
    const response = await original(input, init);
    meter.bytes += (await response.clone().arrayBuffer()).byteLength;
    return response;
  };
  return meter;
}

export async function token(sandbox: Sandbox): Promise<string> {
  return (await sandbox.control.issueTokens(UPN, { scopes: SCOPES })).access_token;
}

export function ourGraph(sandbox: Sandbox): GraphFactory<CredentialKey> {
  return createGraphFactory<CredentialKey>({
    graphBaseUrl: sandbox.url,
    tokens: {
      getAccessToken: async () => ({
        accessToken: await token(sandbox),
        scopes: SCOPES,
        account: { id: sandbox.users[0]!.id, address: UPN },
      }),
    },
  });
}

/**
 * The Graph SDK as people use it: default retry handler and paging. Its own auth handler only
 * sends tokens to https Graph hosts, and it reads an http:// next link as a relative path, so
 * for the loopback sandbox this middleware adds the header and undoes that one misreading.
 */
export function sdkClient(sandbox: Sandbox, accessToken: string): Client {
  const auth: Middleware & { next?: Middleware } = {
    async execute(context: Context) {
      if (typeof context.request === 'string') {
        context.request = context.request.replace(/\/v1\.0\/http:\/+[^/]+\/v1\.0\//, '/v1.0/');
      }
      const headers = new Headers(context.options?.headers);
      headers.set('authorization', `Bearer ${accessToken}`);
      context.options = { ...context.options, headers };
      await auth.next!.execute(context);
    },
    setNext(next: Middleware) {
      auth.next = next;
    },
  };
  const retry = new RetryHandler();
  auth.setNext!(retry);
  retry.setNext(new HTTPMessageHandler());
  return Client.initWithMiddleware({ baseUrl: sandbox.url, middleware: auth });
}

/** Adds a 4-level subtree so the mailbox has about 60 folders. */
async function seedFolders(sandbox: Sandbox): Promise<number> {
  const client = sdkClient(sandbox, await token(sandbox));
  const create = async (parent: string | null, name: string): Promise<string> => {
    const path = parent ? `/me/mailFolders/${parent}/childFolders` : '/me/mailFolders';
    return ((await client.api(path).post({ displayName: name })) as { id: string }).id;
  };
  const top = await create(null, 'Customers');
  for (const region of ['EMEA', 'Americas', 'APAC', 'Partners']) {
    const r = await create(top, region);
    for (const tier of ['Gold', 'Silver', 'Bronze']) {
      const t = await create(r, tier);
      for (const year of ['2025', '2026'].slice(0, tier === 'Bronze' ? 1 : 2))
        await create(t, year);
    }
  }
  return sandbox.control.folders(UPN).length;
}

/** A naive recursive walk: one listing (with default paging) per folder, depth-first. */
async function naiveFolderWalk(client: Client): Promise<number> {
  let count = 0;
  const walk = async (path: string): Promise<void> => {
    const ids: string[] = [];
    const first = (await client.api(path).get()) as PageCollection;
    await new PageIterator(client, first, (folder: { id: string }) => {
      ids.push(folder.id);
      return true;
    }).iterate();
    count += ids.length;
    for (const id of ids)
      await walk(`/me/mailFolders/${id}/childFolders?includeHiddenFolders=true`);
  };
  await walk('/me/mailFolders?includeHiddenFolders=true');
  return count;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/**
 * Read-side figures against the sandbox with 50 ms per Graph request, each with a baseline from
 * the same run: the folder tree (round trips, wall time) against a naive per-folder SDK walk,
 * and a 2,500-message mailbox (requests, bytes) against the SDK's PageIterator defaults.
 */
export async function benchRead(): Promise<BenchResult[]> {
  const sandbox = await startSandbox({ messagesPerUser: 2500, latencyMs: 50 });
  try {
    const folderTotal = await seedFolders(sandbox);
    const results: BenchResult[] = [];

    // Folder tree: ours (batched levels, cold well-known cache) vs the naive walk.
    const reader = createFolderReader({ graph: ourGraph(sandbox) });
    let meter = meterFetch();
    const ours = await timed(() =>
      reader.list(key, {
        recursive: true,
        includeHidden: true,
        abortSignal: budgetSignal(120_000),
        log,
      }),
    );
    const ourRequests = meter.requests;
    meter.restore();
    const sdk = sdkClient(sandbox, await token(sandbox));
    meter = meterFetch();
    const naive = await timed(() => naiveFolderWalk(sdk));
    const naiveRequests = meter.requests;
    meter.restore();
    if (ours.value.length !== folderTotal || naive.value !== folderTotal) {
      throw new Error(
        `folder counts differ: ours ${ours.value.length}, naive ${naive.value}, mailbox ${folderTotal}`,
      );
    }
    results.push(
      {
        name: `folder tree (${folderTotal} folders, 4 levels): HTTP round trips`,
        value: ourRequests,
        unit: 'requests',
        baseline: naiveRequests,
        baselineName: 'Graph SDK, one listing per folder',
      },
      {
        name: `folder tree (${folderTotal} folders, 4 levels): wall time at 50 ms/request`,
        value: Math.round(ours.ms),
        unit: 'ms',
        baseline: Math.round(naive.ms),
        baselineName: 'Graph SDK, one listing per folder',
      },
    );

    // Whole mailbox: ours ($select, $top=1000, cursor pages) vs PageIterator with defaults.
    const messages = createMessageReader({
      graph: ourGraph(sandbox),
      cursors: createCursorCodec({
        key: () => Promise.resolve(Buffer.alloc(32, 3)),
        schema: messageCursorSchema,
      }),
    });
    const options = () => ({ abortSignal: budgetSignal(120_000), log });
    meter = meterFetch();
    let page = await messages.list(
      key,
      { top: 1000, fields: MESSAGE_FIELDS, filters: {} },
      options(),
    );
    let ourCount = page.messages.length;
    while (page.nextCursor) {
      page = await messages.resume(key, page.nextCursor, options());
      ourCount += page.messages.length;
    }
    const ourMessages = { requests: meter.requests, bytes: meter.bytes };
    meter.restore();
    meter = meterFetch();
    let sdkCount = 0;
    const first = (await sdk.api('/me/messages').get()) as PageCollection;
    await new PageIterator(sdk, first, () => {
      sdkCount++;
      return true;
    }).iterate();
    const sdkMessages = { requests: meter.requests, bytes: meter.bytes };
    meter.restore();
    if (ourCount !== sdkCount) throw new Error(`message counts differ: ${ourCount} vs ${sdkCount}`);
    results.push(
      {
        name: `list ${ourCount} messages: Graph requests`,
        value: ourMessages.requests,
        unit: 'requests',
        baseline: sdkMessages.requests,
        baselineName: 'Graph SDK PageIterator, default paging',
      },
      {
        name: `list ${ourCount} messages: bytes from Graph`,
        value: ourMessages.bytes,
        unit: 'bytes',
        baseline: sdkMessages.bytes,
        baselineName: 'Graph SDK PageIterator, default paging',
      },
    );
    return results;
  } finally {
    await sandbox.close();
  }
}

if (require.main === module) {
  void benchRead().then((results) => console.log(JSON.stringify(results, null, 2)));
}
