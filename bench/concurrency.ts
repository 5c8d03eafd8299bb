import { startAzurite } from '../src/local/azurite';
import { type Sandbox, startSandbox } from '../src/local/sandbox';
import { type BenchInstance, startBenchInstance } from './app-instance';
import { type BenchResult } from './result';

/** Callers per instance, each reading one page after another. */
const CALLERS = 8;
const READS_PER_CALLER = 15;
/**
 * Network round trip and Outlook's own time per read: long enough that the mailbox's 4 slots,
 * not this machine's CPU, bound the throughput (4 / 320 ms = 12.5 reads/s at most).
 */
const LATENCY_MS = 20;
const SERVICE_MS = 300;

interface Run {
  requestsPerSecond: number;
  mailboxConcurrency429s: number;
  failed: number;
}

/** `callers` callers on each instance read messages of the one mailbox; every answer is checked. */
async function run(sandbox: Sandbox, instances: BenchInstance[], callers: number): Promise<Run> {
  let failed = 0;
  const caller = async (instance: BenchInstance, n: number) => {
    for (let i = 0; i < READS_PER_CALLER; i++) {
      const response = await instance.api(`credentials/c1/messages?top=${1 + ((n + i) % 10)}`);
      await response.arrayBuffer();
      if (response.status !== 200) failed++;
    }
  };
  // Warm-up: tokens, storage tables and the first slot leases are not what is measured.
  await Promise.all(instances.map((instance) => caller(instance, 0)));
  failed = 0;
  const before = sandbox.control.throttles().mailboxConcurrency;
  const started = performance.now();
  await Promise.all(
    instances.flatMap((instance) => Array.from({ length: callers }, (_, n) => caller(instance, n))),
  );
  const seconds = (performance.now() - started) / 1000;
  const requests = instances.length * callers * READS_PER_CALLER;
  return {
    requestsPerSecond: requests / seconds,
    mailboxConcurrency429s: sandbox.control.throttles().mailboxConcurrency - before,
    failed,
  };
}

/** A fresh sandbox and Azurite, `count` instances in `mode`, one measured run. */
async function scenario(count: number, mode: 'shared' | 'instance', callers: number): Promise<Run> {
  const sandbox = await startSandbox({
    messagesPerUser: 20,
    latencyMs: LATENCY_MS,
    serviceMs: SERVICE_MS,
  });
  const azurite = await startAzurite();
  const instances: BenchInstance[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const env = { MAILBOX_SLOTS: mode };
      instances.push(await startBenchInstance(sandbox, { storage: azurite.connectionString, env }));
    }
    return await run(sandbox, instances, callers);
  } finally {
    for (const instance of instances) await instance.close();
    await sandbox.close();
    await azurite.stop();
  }
}

/**
 * Two app instances against one sandbox mailbox (Graph: 4 concurrent requests per app per
 * mailbox), each with 8 callers reading pages, against one instance serving all 16 callers: the
 * throughput the mailbox allows, how many 429 MailboxConcurrency each way costs, and how many
 * reads the callers lost to them (throttled past the retries).
 */
export async function benchConcurrency(): Promise<BenchResult[]> {
  const single = await scenario(1, 'shared', 2 * CALLERS);
  const own = await scenario(2, 'instance', CALLERS);
  const shared = await scenario(2, 'shared', CALLERS);
  const reads = `${2 * CALLERS} callers x ${READS_PER_CALLER} reads, ${LATENCY_MS} ms network + ${SERVICE_MS} ms Outlook`;
  console.log(`  (${reads})`);
  return [
    {
      name: 'two instances, shared slots: throughput',
      value: shared.requestsPerSecond,
      unit: 'req/s',
      baseline: single.requestsPerSecond,
      baselineName: 'one instance',
    },
    {
      name: 'two instances, each its own 4: throughput',
      value: own.requestsPerSecond,
      unit: 'req/s',
      baseline: single.requestsPerSecond,
      baselineName: 'one instance',
    },
    {
      name: 'two instances, shared slots: 429 MailboxConcurrency',
      value: shared.mailboxConcurrency429s,
      unit: '429s',
      baseline: own.mailboxConcurrency429s,
      baselineName: 'each its own 4',
    },
    {
      name: 'two instances, shared slots: reads answered other than 200',
      value: shared.failed,
      unit: 'reads',
      baseline: own.failed,
      baselineName: 'each its own 4',
    },
    {
      name: 'one instance: 429 MailboxConcurrency',
      value: single.mailboxConcurrency429s,
      unit: '429s',
    },
  ];
}
