import { randomUUID } from 'node:crypto';

import { type TableClient } from '@azure/data-tables';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { type CredentialKey } from '../../../src/credentials/types';
import { type GraphFactory } from '../../../src/graph/client';
import { sendIdProperty, sendMail } from '../../../src/graph/send';
import { type AzuriteInstance } from '../../../src/local/azurite';
import { IDEMPOTENCY_TABLE } from '../../../src/mail/idempotency';
import {
  createSendRecordStore,
  MAX_UPDATE_ATTEMPTS,
  type SendRecord,
  type SendRecordStore,
} from '../../../src/mail/send/records';
import { copyOutcome, createSentCopyCleanup } from '../../../src/mail/send/sent-copy';
import { createSendStatus, lookupResult } from '../../../src/mail/send/status';
import { type StorageClients } from '../../../src/storage';
import { log, readOptions, sandboxGraph } from '../../support/graph-read';
import { withSandbox } from '../../support/sandbox';
import { sentCopies, sentNow } from '../../support/sent-items';
import { storageClientsFor, testStorage } from '../../support/storage';
import { useStack } from '../../support/use-stack';

/**
 * A send's record has three writers: the sender, `GET …/sends/{sendId}` (status and ids, once the
 * Sent Items copy is found) and the sent-copy job (the copy's fate). Each test interleaves two of
 * them by hand against Azurite (read A, write B, write A) and checks that B's write survives A's.
 */

const SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send'];
const sandbox = useStack(() => withSandbox({ messagesPerUser: 0 }));
let azurite: AzuriteInstance;
let storage: StorageClients;
let records: SendRecordStore;
let upn: string;

beforeAll(async () => {
  azurite = await testStorage();
  storage = storageClientsFor(azurite);
  records = createSendRecordStore({ table: () => storage.table(IDEMPOTENCY_TABLE) });
});
afterAll(() => azurite?.stop());

const key: CredentialKey = { serviceId: 'svc', credentialId: 'c1' };
beforeEach(() => {
  upn = sandbox.users[0]!.userPrincipalName;
});

/** The real Graph helper against the sandbox, credential `c1` being the first user. */
const graphOf = (): Pick<GraphFactory<CredentialKey>, 'forCredential'> => ({
  forCredential: (_key, options) =>
    sandboxGraph(sandbox, SCOPES).forCredential({ serviceId: 'svc', credentialId: upn }, options),
});

/**
 * A draft sent with saveToSentItems=false whose answer was lost (`unknown`), its copy's deletion
 * queued: stored, and its copy in Sent Items (the draft's immutable id, carrying the send's marker).
 */
async function lostUnsavedDraftSend(subject: string): Promise<SendRecord> {
  const sendId = randomUUID();
  const graph = await graphOf().forCredential(key, readOptions());
  const sentAt = Date.now();
  await sendMail(
    graph,
    {
      subject,
      body: { contentType: 'Text', content: 'x' },
      toRecipients: [{ emailAddress: { address: sandbox.users[1]!.mail } }],
      singleValueExtendedProperties: [sendIdProperty(sendId)],
    },
    true,
  );
  const [copy] = await sentCopies(sandbox, upn, subject);
  const record: SendRecord = {
    sendId,
    status: 'unknown',
    sentAt,
    via: 'draft',
    draftId: String(copy!.immutableId),
    savedToSentItems: false,
    messageId: null,
    internetMessageId: null,
    resolved: false,
    copyDeletion: 'pending',
  };
  await records.put(key, record);
  return record;
}

/** The sent-copy queue's message for `record`'s send, after `n` looks. */
const jobMessage = (record: SendRecord, n: number) => ({
  v: 1,
  s: key.serviceId,
  c: key.credentialId,
  id: record.sendId,
  n,
});

function sentCopyJob(store: SendRecordStore) {
  return createSentCopyCleanup({
    queue: { enqueue: () => Promise.resolve() },
    records: store,
    graph: graphOf(),
  });
}

/** `store`, with `between` run once right before its first write (put or update). */
function writesAfter(store: SendRecordStore, between: () => Promise<unknown>): SendRecordStore {
  let done = false;
  const first = async () => {
    if (done) return;
    done = true;
    await between();
  };
  return {
    get: (credential, sendId) => store.get(credential, sendId),
    async put(credential, record) {
      await first();
      return store.put(credential, record);
    },
    async update(credential, sendId, change) {
      await first();
      return store.update(credential, sendId, change);
    },
  };
}

/** `store`, with `between` run once right after its first read. */
function readsBefore(store: SendRecordStore, between: () => Promise<unknown>): SendRecordStore {
  let done = false;
  return {
    async get(credential, sendId) {
      const record = await store.get(credential, sendId);
      if (!done) {
        done = true;
        await between();
      }
      return record;
    },
    put: (credential, record) => store.put(credential, record),
    update: (credential, sendId, change) => store.update(credential, sendId, change),
  };
}

describe('send records written by two parties at once', () => {
  it('GET sends resolving a lost answer while the job deletes the copy: the copy stays deleted', async () => {
    const record = await lostUnsavedDraftSend('race: status then job');
    const job = sentCopyJob(records);
    // GET read the record and found the copy; the job deletes it and says so; then GET writes.
    const status = createSendStatus({
      graph: graphOf(),
      records: writesAfter(records, () => job.handle(jobMessage(record, 0), { log })),
    });
    const answer = await status.get(key, record.sendId, { log });
    expect(sentNow(sandbox, upn, 'race: status then job')).toEqual([]);
    expect(answer).toMatchObject({ status: 'sent', resolved: true, sentItemsCopy: 'deleted' });
    expect(await records.get(key, record.sendId)).toMatchObject({
      status: 'sent',
      resolved: true,
      copyDeletion: 'deleted',
    });
    // Final: the job's message delivered again finds nothing to do.
    sandbox.control.clearRequestLog();
    await job.handle(jobMessage(record, 1), {
      log,
    });
    expect(sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'))).toEqual([]);
  });

  it('the job giving up while GET sends resolves the lost answer: the send stays sent', async () => {
    const record = await lostUnsavedDraftSend('race: job then status');
    const status = createSendStatus({ graph: graphOf(), records });
    // The poison handler read the record; GET finds the copy and records the send as sent; then
    // the handler writes that the copy is left.
    const job = sentCopyJob(readsBefore(records, () => status.get(key, record.sendId, { log })));
    await job.handlePoison(jobMessage(record, 3), { log });
    expect(await records.get(key, record.sendId)).toMatchObject({
      status: 'sent',
      resolved: true,
      copyDeletion: 'left',
    });
    expect(await status.get(key, record.sendId, { log })).toMatchObject({
      status: 'sent',
      resolved: true,
      sentItemsCopy: 'left',
    });
  });

  it('a copy deleted by the job proves the send: a lost answer reads sent though the copy is gone', async () => {
    const record = await lostUnsavedDraftSend('deleted proves sent');
    await sentCopyJob(records).handle(jobMessage(record, 0), { log });
    const status = createSendStatus({ graph: graphOf(), records });
    sandbox.control.clearRequestLog();
    expect(await status.get(key, record.sendId, { log })).toMatchObject({
      status: 'sent',
      messageId: null,
      resolved: true,
      sentItemsCopy: 'deleted',
    });
    expect(sandbox.control.requestLog()).toEqual([]);
  });
});

describe('send record updates', () => {
  const stored = (): SendRecord => ({
    sendId: randomUUID(),
    status: 'unknown',
    sentAt: Date.now(),
    via: 'draft',
    draftId: 'AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A',
    savedToSentItems: false,
    messageId: null,
    internetMessageId: null,
    resolved: false,
    copyDeletion: 'pending',
  });

  /** A send record store whose table runs `between` before each of its first `times` writes. */
  async function storeWritingAfter(between: () => Promise<unknown>, times = 1) {
    const table = await storage.table(IDEMPOTENCY_TABLE);
    let left = times;
    const racing = new Proxy(table, {
      get(target, property) {
        if (property === 'updateEntity') {
          return async (...args: Parameters<TableClient['updateEntity']>) => {
            if (left-- > 0) await between();
            return target.updateEntity(...args);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    return createSendRecordStore({ table: () => Promise.resolve(racing) });
  }

  it('a write between its read and its write (412) makes it read again and apply its change to that', async () => {
    const record = stored();
    await records.put(key, record);
    // Read A (the status route's update), write B (the job leaves the copy), write A.
    const racing = await storeWritingAfter(() =>
      records.update(key, record.sendId, copyOutcome('left')),
    );
    const seen: Array<SendRecord['copyDeletion']> = [];
    const found: SendRecord = { ...record, status: 'sent', resolved: true };
    const after = await racing.update(key, record.sendId, (current) => {
      seen.push(current.copyDeletion);
      return lookupResult(found)(current);
    });
    expect(seen).toEqual(['pending', 'left']);
    expect(after).toMatchObject({ status: 'sent', resolved: true, copyDeletion: 'left' });
    expect(await records.get(key, record.sendId)).toEqual(after);
  });

  it('gives up (503) after MAX_UPDATE_ATTEMPTS rounds lost to other writers; never recreates a record', async () => {
    const record = stored();
    await records.put(key, record);
    let n = 0;
    const racing = await storeWritingAfter(
      () => records.put(key, { ...record, sentAt: record.sentAt + ++n }),
      Infinity,
    );
    let calls = 0;
    await expect(
      racing.update(key, record.sendId, (current) => {
        calls++;
        return copyOutcome('left')(current);
      }),
    ).rejects.toMatchObject({ name: 'UpstreamError', code: 'store_unavailable' });
    expect(calls).toBe(MAX_UPDATE_ATTEMPTS);
    expect(await records.get(key, record.sendId)).toMatchObject({ copyDeletion: 'pending' });

    const unknown = randomUUID();
    expect(await records.update(key, unknown, () => ({ ...record, sendId: unknown }))).toBe(
      undefined,
    );
    expect(await records.get(key, unknown)).toBeUndefined();
  });
});
