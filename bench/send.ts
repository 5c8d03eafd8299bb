import { type ChildProcess, fork, spawn } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { UPLOAD_CHUNK_BYTES } from '../src/graph/uploads';
import { messageSize } from '../src/mail/message-size';
import { median, type BenchResult } from './result';
import { type ChildInit, type ChildReply, type ChildRequest } from './send-child';

/**
 * Large attachments through the product (multipart from a file on disk → local host → draft +
 * upload session → send), with sizes declared (the file flows through) and without (spooled
 * first), against the Graph SDK's LargeFileUploadTask on a buffered file, all to the same sandbox
 * with the same latency. Every variant runs in a process of its own (bench/send-child.ts) and the
 * sandbox in another, so each RSS figure is that variant's alone; the multipart request is posted
 * from this process. Beside them Node's floor: a process that only receives the same request. Then the upload chunk size: the product's uploader with each candidate size.
 */

const MiB = 1024 * 1024;
/**
 * The largest file a 150 MB MaxSendSize (Exchange's maximum, MAX_MESSAGE_SIZE_MB=150) lets through
 * in the message the benchmark sends: Exchange counts the encoded message, so a 150 MB file itself
 * is refused with 413 (docs/send.md, "How large a file fits").
 */
function largestFile(limitBytes: number): number {
  let [low, high] = [0, limitBytes];
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    // Room for any subject the benchmark gives (under 64 characters).
    const size = messageSize({
      subject: 'x'.repeat(64),
      body: '',
      recipients: 1,
      attachments: [mid],
    });
    if (size.encodedBytes <= limitBytes) low = mid;
    else high = mid - 1;
  }
  return low;
}
const SIZES = [
  { label: '20 MB', bytes: 20 * MiB },
  { label: "150 MB MaxSendSize's largest file (109.6 MB)", bytes: largestFile(150_000_000) },
];
/**
 * Candidate upload chunk sizes: multiples of 320 KiB (the unit OneDrive sessions require, harmless
 * for Outlook) up to Graph's 4 MB per PUT: 4, 8, 10 and 12 × 320 KiB. 12 is the largest multiple
 * under 4 MB read as 4,000,000 bytes (13 × 320 KiB is over 4 MiB even); 3.90625 MiB is 12.5 ×.
 */
const CHUNK_CANDIDATES = [4, 8, 10, 12].map((n) => n * 320 * 1024);
const CHUNK_RUNS = 3;
/** Runs of each variant and size, each in a fresh child (BENCH_SEND_RUNS), each figure their median. */
const RUNS = Number(process.env.BENCH_SEND_RUNS ?? 3);
/** Per Graph request and upload PUT, in the sandbox (BENCH_LATENCY_MS; default none). */
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);

async function startSandboxProcess(): Promise<{ url: string; child: ChildProcess; env: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(__dirname, '../src/local/sandbox/main.ts'),
      '--port',
      '0',
      '--latency',
      String(LATENCY_MS),
    ],
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

interface Variant {
  /** Sends one request and waits for its answer (the child answers them in order). */
  ask(request: ChildRequest): Promise<{ ms?: number; rssMiB?: number }>;
  url: string | undefined;
  apiKey: string;
  close(): Promise<void>;
}

/** Starts bench/send-child.ts for one variant and waits until it is ready. */
async function startVariant(init: ChildInit): Promise<Variant> {
  const child = fork(path.join(__dirname, 'send-child.ts'), [JSON.stringify(init)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: Array<{ resolve(reply: ChildReply): void; reject(error: Error): void }> = [];
  const next = () =>
    new Promise<ChildReply>((resolve, reject) => waiting.push({ resolve, reject }));
  child.on('message', (reply: ChildReply) => waiting.shift()?.resolve(reply));
  const gone = (error: Error) => {
    for (const w of waiting.splice(0)) w.reject(error);
  };
  child.on('error', gone);
  child.on('exit', (code) => gone(new Error(`bench child (${init.kind}) exited with ${code}`)));
  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`bench child (${init.kind}) did not start`);
  return {
    url: ready.url,
    apiKey: ready.apiKey,
    async ask(request) {
      const answer = next();
      child.send(request);
      const reply = await answer;
      if (reply.type === 'failed') throw new Error(`bench child (${init.kind}): ${reply.message}`);
      if (reply.type !== 'done')
        throw new Error(`bench child (${init.kind}) answered ${reply.type}`);
      return reply;
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/** One run through the product: the multipart request from this process, RSS in the child's. */
async function viaProduct(
  variant: Variant,
  file: string,
  bytes: number,
  subject: string,
  declare: boolean,
): Promise<{ ms: number; rss: number }> {
  await variant.ask({ type: 'measure-start' });
  const started = performance.now();
  // Streamed from disk: this process's buffers stay out of the child's figure anyway.
  const form = new FormData();
  const message = {
    to: 'alex@contoso.test',
    subject,
    ...(declare ? { fileSizes: { file: bytes } } : {}),
  };
  form.append('message', JSON.stringify(message));
  form.append('file', await openAsBlob(file), 'bench.bin');
  const response = await fetch(`${variant.url}/api/credentials/c1/send`, {
    method: 'POST',
    headers: { 'x-api-key': variant.apiKey },
    body: form,
  });
  const text = await response.text();
  const ms = performance.now() - started;
  const { rssMiB } = await variant.ask({ type: 'measure-stop' });
  if (response.status !== 202) throw new Error(`send answered ${response.status}: ${text}`);
  return { ms, rss: rssMiB ?? NaN };
}

interface Run {
  ms: number;
  rss: number;
}

/** One variant: the child it runs in, its warm-up there, and the run measured. */
interface Measured {
  init: ChildInit;
  warm: (variant: Variant) => Promise<unknown>;
  measure: (variant: Variant) => Promise<Run>;
}

/**
 * RUNS rounds; in each, every variant runs once, in a fresh child of its own after a warm-up
 * (token, connections, JIT) there; the median wall time and the median peak RSS growth of each.
 * Fresh, because a process keeps the memory a run freed, so a second run in it would grow less;
 * several, because one run's growth depends on when the collector happens to run; in turns, so a
 * machine that slows down part way (other work on it) slows every variant alike.
 */
async function inTurns<K extends string>(variants: Record<K, Measured>): Promise<Record<K, Run>> {
  const names = Object.keys(variants) as K[];
  const runs = new Map<K, Run[]>(names.map((name) => [name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const name of names) {
      const { init, warm, measure } = variants[name];
      const variant = await startVariant(init);
      try {
        await warm(variant);
        runs.get(name)!.push(await measure(variant));
      } finally {
        await variant.close();
      }
    }
  }
  const result = {} as Record<K, Run>;
  for (const name of names) {
    const of = runs.get(name)!;
    result[name] = { ms: median(of.map((r) => r.ms)), rss: median(of.map((r) => r.rss)) };
  }
  return result;
}

export async function benchSend(): Promise<BenchResult[]> {
  const sandbox = await startSandboxProcess();
  const dir = await mkdtemp(path.join(tmpdir(), 'omf-bench-send-'));
  const results: BenchResult[] = [];
  try {
    // Every run uploads up to 150 MB; Outlook's 150 MB per 5 minutes would just make both wait.
    // The mailbox's MaxSendSize is raised to its 150 MB maximum, as MAX_MESSAGE_SIZE_MB is.
    await fetch(`${sandbox.url}/_sandbox/limits`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploadBytesPerWindow: 4096 * MiB, maxSendSizeBytes: 150_000_000 }),
    });
    const init = (kind: ChildInit['kind']): ChildInit => ({
      kind,
      sandbox: {
        url: sandbox.url,
        tenantId: setting(sandbox.env, 'TENANT_ID'),
        clientId: setting(sandbox.env, 'CLIENT_ID'),
        clientSecret: setting(sandbox.env, 'CLIENT_SECRET'),
      },
    });
    const warm = path.join(dir, 'warm.bin');
    await writeFile(warm, Buffer.alloc(4 * MiB, 0x5a));
    const product = (
      kind: 'product' | 'discard',
      file: string,
      bytes: number,
      subject: string,
      declare: boolean,
    ): Measured => ({
      init: init(kind),
      warm: (v) => viaProduct(v, warm, 4 * MiB, 'warm-up', declare),
      measure: (v) => viaProduct(v, file, bytes, subject, declare),
    });
    const sdk = (file: string, label: string): Measured => ({
      init: init('sdk'),
      warm: (v) => v.ask({ type: 'sdk', file: warm, label: 'warm-up' }),
      measure: async (v) => {
        const { ms, rssMiB } = await v.ask({ type: 'sdk', file, label });
        return { ms: ms ?? NaN, rss: rssMiB ?? NaN };
      },
    });
    results.push({
      name: 'sandbox latency per Graph request and upload PUT',
      value: LATENCY_MS,
      unit: 'ms',
    });

    for (const size of SIZES) {
      const file = path.join(dir, `${size.bytes}.bin`);
      await writeFile(file, Buffer.alloc(size.bytes, 0x5a));
      const subject = `bench ${size.label}`;
      const { flow, baseline, spool, floor } = await inTurns({
        flow: product('product', file, size.bytes, subject, true),
        baseline: sdk(file, size.label),
        spool: product('product', file, size.bytes, `${subject} spooled`, false),
        floor: product('discard', file, size.bytes, subject, true),
      });
      const sdkName = 'SDK LargeFileUploadTask, buffered file';
      const chunks = (2 * UPLOAD_CHUNK_BYTES) / MiB;
      const goal = chunks + 16;
      const rss = (what: string, value: number, runs = `own process, median of ${RUNS}`) => ({
        name: `send ${size.label} attachment, ${what}: peak RSS growth (${runs})`,
        value,
        unit: 'MiB',
        baseline: goal,
        baselineName: 'goal: 2 chunks + 16 MiB',
      });
      results.push(
        {
          name: `send ${size.label} attachment, sizes declared: wall time (median of ${RUNS})`,
          value: flow.ms,
          unit: 'ms',
          baseline: baseline.ms,
          baselineName: sdkName,
        },
        {
          name: `send ${size.label} attachment, spooled (no sizes): wall time (median of ${RUNS})`,
          value: spool.ms,
          unit: 'ms',
          baseline: baseline.ms,
          baselineName: sdkName,
        },
        rss('sizes declared', flow.rss),
        rss('spooled (no sizes)', spool.rss),
        rss(sdkName, baseline.rss),
        rss(
          "Node's floor (a plain node:http server reading the same body and dropping it)",
          floor.rss,
        ),
        {
          name: `send ${size.label} attachment, sizes declared: peak RSS growth over Node's floor (medians)`,
          value: flow.rss - floor.rss,
          unit: 'MiB',
          baseline: chunks,
          baselineName: `the 2 chunks it holds`,
        },
        {
          name: `send ${size.label} attachment: upload chunks (the SDK's ranges the same size)`,
          value: Math.ceil(size.bytes / UPLOAD_CHUNK_BYTES),
          unit: 'PUTs',
        },
      );
      await rm(file, { force: true });
    }
    results.push(...(await benchChunkSizes(dir, init('upload'))));
  } finally {
    sandbox.child.kill();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

/**
 * The product's uploader (draft, upload session, PUTs, send) on the same 20 MB file with each
 * candidate chunk size, in one child, in turns (each size once per round, the order rotated),
 * the median of the rounds against the chunk size the product uses.
 */
async function benchChunkSizes(dir: string, init: ChildInit): Promise<BenchResult[]> {
  const bytes = 20 * MiB;
  const file = path.join(dir, 'chunks.bin');
  await writeFile(file, Buffer.alloc(bytes, 0x5a));
  const times = new Map<number, number[]>(CHUNK_CANDIDATES.map((c) => [c, []]));
  const variant = await startVariant(init);
  try {
    await variant.ask({ type: 'upload', file, bytes, chunkBytes: UPLOAD_CHUNK_BYTES });
    for (let round = 0; round < CHUNK_RUNS; round++) {
      for (let i = 0; i < CHUNK_CANDIDATES.length; i++) {
        const chunkBytes = CHUNK_CANDIDATES[(i + round) % CHUNK_CANDIDATES.length]!;
        const { ms } = await variant.ask({ type: 'upload', file, bytes, chunkBytes });
        times.get(chunkBytes)!.push(ms ?? NaN);
      }
    }
  } finally {
    await variant.close();
  }
  const product = median(times.get(UPLOAD_CHUNK_BYTES) ?? [NaN]);
  const fastest = CHUNK_CANDIDATES.reduce((best, c) =>
    median(times.get(c)!) < median(times.get(best)!) ? c : best,
  );
  const label = (c: number) => `${c / MiB} MiB (${c / (320 * 1024)} × 320 KiB)`;
  return [
    ...CHUNK_CANDIDATES.map((c): BenchResult => ({
      name: `upload 20 MB in chunks of ${label(c)}: wall time, median of ${CHUNK_RUNS}`,
      value: median(times.get(c)!),
      unit: 'ms',
      baseline: product,
      baselineName: `the product's ${UPLOAD_CHUNK_BYTES / MiB} MiB`,
    })),
    {
      name: `fastest upload chunk size: ${label(fastest)}`,
      value: median(times.get(fastest)!),
      unit: 'ms',
      baseline: product,
      baselineName: `the product's ${UPLOAD_CHUNK_BYTES / MiB} MiB`,
    },
  ];
}

if (require.main === module) {
  void benchSend().then((results) => {
    for (const r of results) console.log(JSON.stringify(r));
  });
}
