import { type QueueClient } from '@azure/storage-queue';

import { ConflictError } from '../../src/core/errors';
import { createLogger, type Logger } from '../../src/core/logger';
import { type CredentialKey } from '../../src/credentials/types';
import { decodeQueueMessage } from '../../src/local/host';
import {
  type BulkDependencies,
  type BulkJobs,
  type BulkSettings,
  createBulkJobs,
  DEFAULT_BULK_SETTINGS,
} from '../../src/mail/bulk/jobs';
import { createPacer } from '../../src/mail/bulk/pacing';
import { BULK_QUEUE, createBulkQueue } from '../../src/mail/bulk/queue';
import { createBulkStore, type BulkStore, type RecipientRow } from '../../src/mail/bulk/store';
import { type BulkWorker, createBulkWorker } from '../../src/mail/bulk/worker';
import { type OutgoingMessage, type SendResult, type SendService } from '../../src/mail/send-types';
import { createAttachmentBlobs } from '../../src/mail/template-storage';
import { createTemplateService, type TemplateService } from '../../src/mail/templates';
import { createStorageClients, type StorageClients } from '../../src/storage';
import { testStorage } from './storage';

export const silentLog: Logger = createLogger(() => undefined);

export interface SentRecord {
  key: string;
  to: string;
  cc: string[];
  subject: string;
  body: string;
  at: number;
  attachments: Array<{ name: string; bytes: Buffer }>;
}

/**
 * A SendService stand-in for unit tests: keeps "Graph accepts" per idempotency key like the real
 * one (a repeat returns the first result, a different fingerprint conflicts). `behave` may throw
 * before or after the accept to simulate failures.
 */
export function fakeSend(
  behave?: (message: OutgoingMessage, call: number) => 'ok' | Error | { afterAccept: Error },
) {
  const accepted = new Map<string, { fingerprint: string; result: SendResult }>();
  const sent: SentRecord[] = [];
  let calls = 0;
  const service: SendService = {
    async send(_credential: CredentialKey, message, options) {
      calls++;
      const key = options.idempotency?.key ?? `none-${calls}`;
      const previous = accepted.get(key);
      if (previous) {
        if (previous.fingerprint !== options.idempotency?.fingerprint) {
          throw new ConflictError('idempotency_conflict', 'fingerprint differs');
        }
        return previous.result;
      }
      const outcome = behave?.(message, calls) ?? 'ok';
      if (outcome instanceof Error) throw outcome;
      const attachments = await Promise.all(
        message.attachments.map(async (a) => {
          const chunks: Buffer[] = [];
          for await (const chunk of a.open()) chunks.push(Buffer.from(chunk));
          return { name: a.name, bytes: Buffer.concat(chunks) };
        }),
      );
      const result: SendResult = {
        sendId: `s${calls}`,
        status: 'sent',
        messageId: `m-${key}`,
        internetMessageId: null,
        sentAt: new Date().toISOString(),
      };
      accepted.set(key, { fingerprint: options.idempotency?.fingerprint ?? '', result });
      sent.push({
        key,
        to: message.to[0]!.address,
        cc: message.cc.map((c) => c.address),
        subject: message.subject,
        body: message.body,
        at: Date.now(),
        attachments,
      });
      if (outcome !== 'ok') throw outcome.afterAccept;
      return result;
    },
  };
  return { service, sent, calls: () => calls };
}

export interface BulkHarness {
  /** What the services were made from, for driving one worker stage alone. */
  deps: BulkDependencies;
  store: BulkStore;
  jobs: BulkJobs;
  worker: BulkWorker;
  templates: TemplateService;
  queue: QueueClient;
  key: CredentialKey;
}

let counter = 0;

/** Bulk services over real Azurite tables/queues, unique names per harness so tests don't meet. */
export async function bulkHarness(
  storage: StorageClients,
  send: SendService,
  settings: Partial<BulkSettings> = {},
  options: { senderMailbox?: () => Promise<string> } = {},
): Promise<BulkHarness> {
  const suffix = `t${Date.now().toString(36)}${counter++}`;
  const queueName = `${BULK_QUEUE}-${suffix}`.toLowerCase();
  const attachments = createAttachmentBlobs(() => storage.container(`att-${suffix}`.toLowerCase()));
  const full: BulkSettings = {
    ...DEFAULT_BULK_SETTINGS,
    ratePerMinute: 6000,
    dailyRecipientLimit: 10_000,
    maxMessageBytes: 35 * 1024 * 1024,
    horizonMs: 5_000,
    sendLeaseMs: 10_000,
    ...settings,
  };
  const templates = createTemplateService({
    table: () => storage.table(`tpl${suffix}`),
    attachments,
    maxMessageBytes: full.maxMessageBytes,
  });
  const store = createBulkStore({
    jobs: () => storage.table(`jobs${suffix}`),
    recipients: () => storage.table(`rcpt${suffix}`),
  });
  const deps: BulkDependencies = {
    store,
    queue: createBulkQueue(() => storage.queue(queueName)),
    pacer: createPacer(() => storage.table(`pace${suffix}`), { ...full, maxConcurrent: 4 }),
    templates,
    attachments,
    send: () => send,
    senderMailbox: options.senderMailbox ?? (() => Promise.resolve('sender@contoso.test')),
    settings: full,
  };
  return {
    deps,
    store,
    jobs: createBulkJobs(deps),
    worker: createBulkWorker(deps),
    templates,
    queue: await storage.queue(queueName),
    key: { serviceId: 'svc', credentialId: 'c1' },
  };
}

/**
 * Runs the queue like the Functions host: failed messages come back (here at once) and after 5
 * dequeues go to the poison handler. Stops when `done` says so or at the timeout.
 */
export async function drain(
  h: BulkHarness,
  done: () => Promise<boolean>,
  options: { timeoutMs?: number; deliver?: (message: unknown) => Promise<void> } = {},
): Promise<{ deliveries: number; failures: number; poisoned: number }> {
  const stats = { deliveries: 0, failures: 0, poisoned: 0 };
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const deliver = options.deliver ?? ((m: unknown) => h.worker.handle(m, { log: silentLog }));
  while (Date.now() < deadline) {
    const batch = await h.queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 30 });
    if (batch.receivedMessageItems.length === 0) {
      if (await done()) return stats;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    await Promise.all(
      batch.receivedMessageItems.map(async (item) => {
        stats.deliveries++;
        const message = decodeQueueMessage(item.messageText);
        try {
          await deliver(message);
          await h.queue.deleteMessage(item.messageId, item.popReceipt);
        } catch {
          stats.failures++;
          if (item.dequeueCount >= 5) {
            stats.poisoned++;
            await h.worker.handlePoison(message, { log: silentLog });
            await h.queue.deleteMessage(item.messageId, item.popReceipt);
          } else {
            await h.queue.updateMessage(item.messageId, item.popReceipt, undefined, 0);
          }
        }
      }),
    );
  }
  throw new Error('drain timed out');
}

export async function finished(h: BulkHarness, jobId: string): Promise<boolean> {
  const view = await h.jobs.status(h.key, jobId, { top: 1 });
  return view.counts.queued === 0;
}

export function recipients(n: number, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: n }, (_, i) => ({
    to: `user${i}@example.test`,
    cc: [],
    variables: { name: `User ${i}` },
    ...extra(i),
  }));
}

/** Storage clients over an account of this worker's Azurite, for bulk tests. */
export async function bulkStorage(): Promise<StorageClients> {
  const azurite = await testStorage();
  return createStorageClients(
    { kind: 'connectionString', connectionString: azurite.connectionString },
    () => {
      throw new Error('no credential needed for Azurite');
    },
  );
}

/** The queue messages of a job that are visible now, decoded. */
export async function visibleMessages(h: BulkHarness): Promise<unknown[]> {
  const { peekedMessageItems } = await h.queue.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((m) => decodeQueueMessage(m.messageText));
}

/** A bulk store over tables of its own in this worker's Azurite. */
export async function testBulkStore(): Promise<BulkStore> {
  const storage = await bulkStorage();
  const suffix = `s${Date.now().toString(36)}${counter++}`;
  return createBulkStore({
    jobs: () => storage.table(`jobs${suffix}`),
    recipients: () => storage.table(`rcpt${suffix}`),
  });
}

/** A recipient row as the store reads it: queued, never sent, with `fields` over the defaults. */
export function recipientRow(fields: Partial<RecipientRow> = {}): RecipientRow {
  return {
    jobId: 'job1',
    index: 0,
    to: 'adele@example.test',
    cc: [],
    variables: {},
    personalNote: undefined,
    recipientCount: 1,
    state: 'queued',
    attempts: 0,
    leaseUntil: 0,
    sendId: undefined,
    sentAt: undefined,
    messageId: undefined,
    internetMessageId: undefined,
    idsResolved: true,
    error: undefined,
    etag: '*',
    ...fields,
  };
}
