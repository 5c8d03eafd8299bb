import { type ChildProcess, spawn } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

import { createApp } from '../src/app';
import { DEFAULT_SCOPES, hashApiKey } from '../src/config';
import { budgetSignal } from '../src/core/abort';
import { createLogger } from '../src/core/logger';
import { createDraft } from '../src/graph/drafts';
import { sendDraft } from '../src/graph/send';
import { createUploadSession, UPLOAD_CHUNK_BYTES } from '../src/graph/uploads';
import { startLocalHost } from '../src/local/host';
import { toGraphMessage } from '../src/mail/send';
import { hostRegistrations } from '../src/registration';
import { type BenchResult } from './result';

/**
 * Large attachments through the product (multipart from a file on disk → local host → draft +
 * upload session → send), with sizes declared (the file flows through) and without (spooled
 * first), against the Graph SDK's LargeFileUploadTask on a buffered file, all to the same sandbox
 * with the same latency. The sandbox runs in its own process so this process's RSS is the app's.
 */

const MiB = 1024 * 1024;
const SIZES = [
  { label: '20 MB', bytes: 20 * MiB },
  { label: '150 MB', bytes: 150_000_000 },
];
const UPN = 'adele@contoso.test';
const RECIPIENT = 'alex@contoso.test';
const log = createLogger(() => undefined);

async function startSandboxProcess(): Promise<{ url: string; child: ChildProcess; env: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, '../src/local/sandbox/main.ts'), '--port', '0'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match && /CLIENT_SECRET=\S+/.test(out)) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
  });
  return { url, child, env: out };
}

function setting(env: string, name: string): string {
  const match = new RegExp(`${name}=(\\S+)`).exec(env);
  if (!match) throw new Error(`sandbox did not print ${name}`);
  return match[1]!;
}

/** A full GC between runs, so each run's RSS growth is its own (no --expose-gc flag needed). */
function collectGarbage(): void {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
}

/** Samples RSS until stopped; returns the peak growth over the level when it started. */
function rssMeter(): { stop(): number } {
  collectGarbage();
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
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

export async function benchSend(): Promise<BenchResult[]> {
  const sandbox = await startSandboxProcess();
  const dir = await mkdtemp(path.join(tmpdir(), 'omf-bench-send-'));
  const results: BenchResult[] = [];
  try {
    const control = (p: string, method: string, body?: unknown) =>
      fetch(`${sandbox.url}/_sandbox${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    // Every run uploads up to 150 MB; Outlook's 150 MB per 5 minutes would just make both wait.
    await control('/limits', 'PATCH', { uploadBytesPerWindow: 4096 * MiB });
    const apiKey = 'bench-send-key';
    const app = createApp({
      env: {
        GRAPH_BASE_URL: sandbox.url,
        AUTHORITY_HOST: sandbox.url,
        TENANT_ID: setting(sandbox.env, 'TENANT_ID'),
        CLIENT_ID: setting(sandbox.env, 'CLIENT_ID'),
        CLIENT_SECRET: setting(sandbox.env, 'CLIENT_SECRET'),
        API_KEYS: `bench=${hashApiKey(apiKey)}`,
        LOCAL_DATA_DIR: dir,
        MAX_MESSAGE_SIZE_MB: '150',
      },
      localBaseUrl: 'http://127.0.0.1:7071',
      log,
    });
    const tokens = await control('/tokens', 'POST', { upn: UPN, scopes: DEFAULT_SCOPES });
    const key = { serviceId: 'bench', credentialId: 'c1' };
    await app.services.credentials.importRecord(key, {
      refreshToken: tokens.refresh_token as string,
      scopes: DEFAULT_SCOPES,
    });
    const host = await startLocalHost({
      registrations: hostRegistrations(app),
      log: (l) => console.error(l),
    });
    const sdk = Client.initWithMiddleware({
      baseUrl: sandbox.url,
      middleware: [new HttpUploadUrlFix(), new HTTPMessageHandler()],
    });

    /** The product: multipart from disk through the local host, declaring the size or not. */
    const viaProduct = async (file: string, bytes: number, subject: string, declare: boolean) => {
      const rss = rssMeter();
      const started = performance.now();
      // Streamed from disk by the client too, so only the app's own buffers show up.
      const form = new FormData();
      const message = {
        to: RECIPIENT,
        subject,
        ...(declare ? { fileSizes: { file: bytes } } : {}),
      };
      form.append('message', JSON.stringify(message));
      form.append('file', await openAsBlob(file), 'bench.bin');
      const response = await fetch(`${host.url}/api/credentials/c1/send`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey },
        body: form,
      });
      if (response.status !== 202)
        throw new Error(`send answered ${response.status}: ${await response.text()}`);
      return { ms: performance.now() - started, rss: rss.stop() };
    };

    /** Baseline: the file read into memory, LargeFileUploadTask with 4 MiB ranges. */
    const viaSdk = async (file: string, label: string) => {
      const rss = rssMeter();
      const started = performance.now();
      const graph = await app.services.graph.forCredential(key, {
        abortSignal: budgetSignal(600_000),
        log,
      });
      const bytes = await readFile(file);
      const payload = toGraphMessage(
        {
          to: [{ address: RECIPIENT }],
          cc: [],
          bcc: [],
          replyTo: [],
          subject: `baseline ${label}`,
          body: '',
          contentType: 'text',
          importance: 'normal',
          saveToSentItems: true,
          headers: {},
          attachments: [],
        },
        'baseline',
      );
      const draft = await createDraft(graph, payload);
      const session = await createUploadSession(graph, draft.id, {
        attachmentType: 'file',
        name: 'bench.bin',
        size: bytes.length,
      });
      const task = new LargeFileUploadTask(
        sdk,
        new FileUpload(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
          'bench.bin',
          bytes.length,
        ),
        { url: session.uploadUrl, expiry: new Date(Date.now() + 600_000) },
        { rangeSize: 4 * MiB },
      );
      await task.upload();
      await sendDraft(graph, draft.id);
      return { ms: performance.now() - started, rss: rss.stop() };
    };

    try {
      // Token refresh, first connections and JIT out of the way before anything is timed.
      const warm = path.join(dir, 'warm.bin');
      await writeFile(warm, Buffer.alloc(4 * MiB, 0x5a));
      await viaProduct(warm, 4 * MiB, 'warm-up', true);
      await viaSdk(warm, 'warm-up');
      for (const size of SIZES) {
        const file = path.join(dir, `${size.bytes}.bin`);
        await writeFile(file, Buffer.alloc(size.bytes, 0x5a));
        const flow = await viaProduct(file, size.bytes, `bench ${size.label}`, true);
        const baseline = await viaSdk(file, size.label);
        const spool = await viaProduct(file, size.bytes, `bench ${size.label} spooled`, false);
        const sdkName = 'SDK LargeFileUploadTask, buffered file';
        results.push(
          {
            name: `send ${size.label} attachment, sizes declared: wall time`,
            value: flow.ms,
            unit: 'ms',
            baseline: baseline.ms,
            baselineName: sdkName,
          },
          {
            name: `send ${size.label} attachment, sizes declared: peak RSS growth`,
            value: flow.rss,
            unit: 'MiB',
            baseline: baseline.rss,
            baselineName: sdkName,
          },
          {
            name: `send ${size.label} attachment, spooled (no sizes): wall time`,
            value: spool.ms,
            unit: 'ms',
            baseline: baseline.ms,
            baselineName: sdkName,
          },
          {
            name: `send ${size.label} attachment, spooled (no sizes): peak RSS growth`,
            value: spool.rss,
            unit: 'MiB',
            baseline: baseline.rss,
            baselineName: sdkName,
          },
          {
            name: `send ${size.label} attachment: RSS goal (2 chunks + 16 MiB)`,
            value: flow.rss,
            unit: 'MiB',
            baseline: (2 * UPLOAD_CHUNK_BYTES) / MiB + 16,
            baselineName: 'goal',
          },
          {
            name: `send ${size.label} attachment: upload chunks`,
            value: Math.ceil(size.bytes / UPLOAD_CHUNK_BYTES),
            unit: 'PUTs',
            baseline: Math.ceil(size.bytes / (4 * MiB)),
            baselineName: 'SDK, 4 MiB ranges',
          },
        );
        await rm(file, { force: true });
      }
    } finally {
      await host.close();
    }
  } finally {
    sandbox.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  void benchSend().then((results) => {
    for (const r of results) console.log(JSON.stringify(r));
  });
}
