/**
 * One variant of the large-send benchmark (bench/send.ts) in a process of its own, so the RSS it
 * reports is that variant's alone: not the sandbox's (another process), not the benchmark's
 * client, not another variant's heap left over. Started by bench/send.ts with `fork`; told what
 * to do over the IPC channel, one request at a time, each answered once.
 *
 * - `product`: the app on the local host, as deployed code runs it; the caller (bench/send.ts)
 *   posts the multipart request from its own process between `measure-start` and `measure-stop`.
 * - `sdk`: the Graph SDK's LargeFileUploadTask on a buffered file, the whole send in here, in the
 *   product's range size.
 * - `upload`: an upload session fed from disk by the product's uploader with a given chunk size.
 * - `discard`: Node's own floor, a plain node:http server that reads each request body and drops
 *   it (no app, no multipart parser); the caller posts the same request as to `product`.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import {
  Client,
  type Context,
  FileUpload,
  HTTPMessageHandler,
  LargeFileUploadTask,
  type Middleware,
} from '@microsoft/microsoft-graph-client';

import { type AppContext, createApp } from '../src/app';
import { DEFAULT_SCOPES, hashApiKey } from '../src/config';
import { budgetSignal } from '../src/core/abort';
import { createLogger } from '../src/core/logger';
import { createDraft } from '../src/graph/drafts';
import { sendDraft } from '../src/graph/send';
import { createUploadSession, UPLOAD_CHUNK_BYTES, uploadToSession } from '../src/graph/uploads';
import { type LocalHost, startLocalHost } from '../src/local/host';
import { toGraphMessage } from '../src/mail/send';
import { hostRegistrations } from '../src/registration';

export type ChildKind = 'product' | 'sdk' | 'upload' | 'discard';

export interface ChildInit {
  kind: ChildKind;
  sandbox: { url: string; tenantId: string; clientId: string; clientSecret: string };
}

export type ChildRequest =
  | { type: 'measure-start' }
  | { type: 'measure-stop' }
  | { type: 'sdk'; file: string; label: string }
  | { type: 'upload'; file: string; bytes: number; chunkBytes: number };

export type ChildReply =
  | { type: 'ready'; url?: string; apiKey: string }
  | { type: 'done'; ms?: number; rssMiB?: number }
  | { type: 'failed'; message: string };

const MiB = 1024 * 1024;
const UPN = 'adele@contoso.test';
const RECIPIENT = 'alex@contoso.test';
const API_KEY = 'bench-send-key';
const KEY = { serviceId: 'bench', credentialId: 'c1' };
const log = createLogger(() => undefined);

/** A full GC, so growth is measured from what is live (no --expose-gc flag needed). */
function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

/** Samples this process's RSS until stopped; the peak growth over the level after a full GC. */
function rssMeter(): { stop(): number } {
  collectGarbage();
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return (peak - start) / MiB;
    },
  };
}

/** The SDK only treats https URLs as absolute; this puts the sandbox's http upload URL back. */
class HttpUploadUrlFix implements Middleware {
  private next: Middleware | undefined;
  setNext(next: Middleware): void {
    this.next = next;
  }
  async execute(context: Context): Promise<void> {
    if (typeof context.request === 'string') {
      const at = context.request.indexOf('http://', 1);
      if (at > 0) context.request = context.request.slice(at);
    }
    await this.next!.execute(context);
  }
}

async function connectedApp(init: ChildInit, dir: string): Promise<AppContext> {
  const { sandbox } = init;
  const app = createApp({
    env: {
      GRAPH_BASE_URL: sandbox.url,
      AUTHORITY_HOST: sandbox.url,
      TENANT_ID: sandbox.tenantId,
      CLIENT_ID: sandbox.clientId,
      CLIENT_SECRET: sandbox.clientSecret,
      API_KEYS: `bench=${hashApiKey(API_KEY)}`,
      LOCAL_DATA_DIR: dir,
      MAX_MESSAGE_SIZE_MB: '150',
    },
    localBaseUrl: 'http://127.0.0.1:7071',
    log,
  });
  const response = await fetch(`${sandbox.url}/_sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ upn: UPN, scopes: DEFAULT_SCOPES }),
  });
  const tokens = (await response.json()) as { refresh_token: string };
  await app.services.credentials.importRecord(KEY, {
    refreshToken: tokens.refresh_token,
    scopes: DEFAULT_SCOPES,
  });
  return app;
}

/** A draft with an upload session for one file, as the product makes them. */
async function draftWithSession(app: AppContext, subject: string, bytes: number) {
  const graph = await app.services.graph.forCredential(KEY, {
    abortSignal: budgetSignal(600_000),
    log,
  });
  const payload = toGraphMessage(
    {
      to: [{ address: RECIPIENT }],
      cc: [],
      bcc: [],
      replyTo: [],
      subject,
      body: '',
      contentType: 'text',
      importance: 'normal',
      saveToSentItems: true,
      headers: {},
      attachments: [],
    },
    'bench',
  );
  const draft = await createDraft(graph, payload);
  const session = await createUploadSession(graph, draft.id, {
    attachmentType: 'file',
    name: 'bench.bin',
    size: bytes,
  });
  return { graph, draft, session };
}

/**
 * Receives every request's body and drops it, then answers 202: the memory any Node server spends
 * on receiving the bytes (the socket's buffers, freed only when the collector runs).
 */
async function startDiscardServer(): Promise<Pick<LocalHost, 'url' | 'close'>> {
  const server = http.createServer((req, res) => {
    req.on('end', () => res.writeHead(202).end());
    req.on('error', () => res.destroy());
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const init = JSON.parse(process.argv[2] ?? '{}') as ChildInit;
  const dir = await mkdtemp(path.join(tmpdir(), 'omf-bench-child-'));
  // The floor runs without the app: what it measures is Node's alone.
  const app = init.kind === 'discard' ? undefined : await connectedApp(init, dir);
  const needApp = (): AppContext => {
    if (!app) throw new Error(`a ${init.kind} child has no app`);
    return app;
  };
  let host: Pick<LocalHost, 'url' | 'close'> | undefined;
  if (init.kind === 'product')
    host = await startLocalHost({
      registrations: hostRegistrations(needApp()),
      log: () => undefined,
    });
  else if (init.kind === 'discard') host = await startDiscardServer();
  const sdk = Client.initWithMiddleware({
    baseUrl: init.sandbox.url,
    middleware: [new HttpUploadUrlFix(), new HTTPMessageHandler()],
  });
  let meter: { stop(): number } | undefined;

  const handle = async (request: ChildRequest): Promise<ChildReply> => {
    switch (request.type) {
      case 'measure-start':
        meter = rssMeter();
        return { type: 'done' };
      case 'measure-stop': {
        const rssMiB = meter?.stop();
        meter = undefined;
        return { type: 'done', ...(rssMiB === undefined ? {} : { rssMiB }) };
      }
      case 'sdk': {
        const rss = rssMeter();
        const started = performance.now();
        const bytes = await readFile(request.file);
        const { graph, draft, session } = await draftWithSession(
          needApp(),
          request.label,
          bytes.length,
        );
        const task = new LargeFileUploadTask(
          sdk,
          new FileUpload(
            bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
            'bench.bin',
            bytes.length,
          ),
          { url: session.uploadUrl, expiry: new Date(Date.now() + 600_000) },
          // Graph takes at most 4,000,000 bytes a range (its 4 MiB default is refused): the
          // product's own range size, so both make the same PUTs.
          { rangeSize: UPLOAD_CHUNK_BYTES },
        );
        await task.upload();
        await sendDraft(graph, draft.id);
        return { type: 'done', ms: performance.now() - started, rssMiB: rss.stop() };
      }
      case 'upload': {
        const rss = rssMeter();
        const started = performance.now();
        const { graph, draft, session } = await draftWithSession(
          needApp(),
          'chunks',
          request.bytes,
        );
        await uploadToSession(
          session,
          { size: request.bytes, open: () => createReadStream(request.file) },
          { log, chunkBytes: request.chunkBytes, abortSignal: budgetSignal(600_000) },
        );
        await sendDraft(graph, draft.id);
        return { type: 'done', ms: performance.now() - started, rssMiB: rss.stop() };
      }
    }
  };

  let queue = Promise.resolve();
  process.on('message', (request: ChildRequest) => {
    queue = queue.then(async () => {
      const reply = await handle(request).catch((error: unknown): ChildReply => ({
        type: 'failed',
        message: error instanceof Error ? String(error) : inspect(error),
      }));
      process.send!(reply);
    });
  });
  // The parent closing the channel is the end: let go of everything and exit.
  process.once('disconnect', () => {
    void (async () => {
      await host?.close();
      await rm(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
  process.send!({
    type: 'ready',
    apiKey: API_KEY,
    ...(host ? { url: host.url } : {}),
  } satisfies ChildReply);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
