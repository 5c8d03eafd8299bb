import { randomUUID } from 'node:crypto';

import { beforeEach, describe, expect, it } from 'vitest';

import { type CredentialKey } from '../../../src/credentials/types';
import { createDraft } from '../../../src/graph/drafts';
import { sendDraft, sendIdProperty, sendMail } from '../../../src/graph/send';
import { type Sandbox } from '../../../src/local/sandbox';
import {
  createSentIdResolver,
  MAX_ID_LOOKUPS_PER_READ,
  sentRow,
} from '../../../src/mail/bulk/sent-ids';
import { type RecipientRow, type SentIds, type SentRow } from '../../../src/mail/bulk/store';
import { LOOKUP_AFTER_MS } from '../../../src/mail/send/status';
import { recipientRow } from '../../support/bulk-harness';
import { log, readOptions, sandboxGraph } from '../../support/graph-read';
import { sentCopies } from '../../support/sent-items';
import { useStack } from '../../support/use-stack';
import { withSandbox } from '../../support/sandbox';

/**
 * Sent rows' message ids found when results are read: the real Graph helper against the sandbox,
 * whose Sent Items copies appear after the 202; the store is a recorder (its Azure Table writes
 * are covered end to end in test/e2e/bulk-ids.test.ts).
 */

const sandbox = useStack(() => withSandbox({ messagesPerUser: 0 }));
const SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send'];

let upn: string;
let key: CredentialKey;
let graph: ReturnType<typeof sandboxGraph>;

beforeEach(() => {
  upn = sandbox.users[0]!.userPrincipalName;
  key = { serviceId: 'svc', credentialId: upn };
  graph = sandboxGraph(sandbox, SCOPES);
  sandbox.control.clearRequestLog();
});

const graphCalls = (s: Sandbox) =>
  s.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

/** Sends a message marked with a new send id, as the send path does; its sent row. */
async function sent(subject: string, index: number): Promise<RecipientRow> {
  const sendId = randomUUID();
  const mailbox = await graph.forCredential(key, readOptions());
  const at = new Date().toISOString();
  await sendMail(
    mailbox,
    {
      subject,
      body: { contentType: 'Text', content: 'x' },
      toRecipients: [{ emailAddress: { address: sandbox.users[1]!.mail } }],
      singleValueExtendedProperties: [sendIdProperty(sendId)],
    },
    true,
  );
  return row(
    index,
    sentRow({ sendId, status: 'sent', messageId: null, internetMessageId: null, sentAt: at }),
  );
}

function row(
  index: number,
  fields: Omit<Partial<RecipientRow>, 'messageId' | 'internetMessageId'> & SentRow,
): RecipientRow {
  const { resolved, messageId, internetMessageId, ...rest } = fields;
  return recipientRow({
    index,
    to: `r${index}@example.test`,
    state: 'sent',
    attempts: 1,
    ...rest,
    messageId: messageId ?? undefined,
    internetMessageId: internetMessageId ?? undefined,
    idsResolved: resolved,
  });
}

function recorder(fail = false) {
  const writes: Array<{ index: number; ids: SentIds }> = [];
  return {
    writes,
    store: {
      recordIds(r: RecipientRow, ids: SentIds): Promise<void> {
        if (fail) return Promise.reject(new Error('table down'));
        writes.push({ index: r.index, ids });
        return Promise.resolve();
      },
    },
  };
}

describe('bulk rows: message ids when results are read', () => {
  it('looks up at most MAX_ID_LOOKUPS_PER_READ rows per read, records what it finds, and the rest on the next read', async () => {
    const count = MAX_ID_LOOKUPS_PER_READ + 2;
    const rows: RecipientRow[] = [];
    for (let i = 0; i < count; i++) rows.push(await sent(`ids ${i}`, i));
    const copies = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < count; i++) {
      const [copy] = await sentCopies(sandbox, upn, `ids ${i}`);
      copies.set(`ids ${i}`, copy!);
    }
    const { store, writes } = recorder();
    const resolve = createSentIdResolver({ graph, store });

    sandbox.control.clearRequestLog();
    const first = await resolve(key, rows, { log });
    const lookups = graphCalls(sandbox);
    expect(lookups).toHaveLength(MAX_ID_LOOKUPS_PER_READ);
    expect(lookups.every((c) => c.path === `/v1.0/me/mailFolders/sentitems/messages`)).toBe(true);
    for (const [i, r] of first.entries()) {
      const copy = copies.get(`ids ${i}`)!;
      if (i < MAX_ID_LOOKUPS_PER_READ) {
        expect(r).toMatchObject({
          messageId: copy.immutableId,
          internetMessageId: copy.internetMessageId,
          idsResolved: true,
        });
      } else {
        expect(r).toMatchObject({ messageId: undefined, idsResolved: false });
      }
    }
    expect(writes.map((w) => w.index)).toEqual([...Array(MAX_ID_LOOKUPS_PER_READ).keys()]);

    // The next read looks up only the two left; then nothing is left to look up.
    sandbox.control.clearRequestLog();
    const second = await resolve(key, first, { log });
    expect(graphCalls(sandbox)).toHaveLength(2);
    expect(second.every((r) => r.idsResolved)).toBe(true);
    sandbox.control.clearRequestLog();
    expect(await resolve(key, second, { log })).toEqual(second);
    expect(graphCalls(sandbox)).toEqual([]);
  });

  it('a copy not there yet leaves the row awaiting; past the lookup window it is final with no ids', async () => {
    const { store, writes } = recorder();
    const sentAt = Date.now();
    const awaited = row(0, {
      sendId: randomUUID(),
      sentAt,
      messageId: null,
      internetMessageId: null,
      resolved: false,
    });
    const early = createSentIdResolver({ graph, store, now: () => sentAt + 1000 });
    expect(await early(key, [awaited], { log })).toEqual([awaited]);
    expect(writes).toEqual([]);

    const late = createSentIdResolver({ graph, store, now: () => sentAt + LOOKUP_AFTER_MS + 1 });
    const [final] = await late(key, [awaited], { log });
    expect(final).toMatchObject({ messageId: undefined, idsResolved: true });
    expect(writes).toEqual([
      { index: 0, ids: { messageId: null, internetMessageId: null, resolved: true } },
    ]);
  });

  it('a row sent by draft is looked up by its immutable id, not searched for', async () => {
    const mailbox = await graph.forCredential(key, readOptions());
    const draft = await createDraft(mailbox, {
      subject: 'ids by draft',
      body: { contentType: 'Text', content: 'x' },
      toRecipients: [{ emailAddress: { address: sandbox.users[1]!.mail } }],
      singleValueExtendedProperties: [sendIdProperty('by-draft')],
    });
    await sendDraft(mailbox, draft.id);
    const [copy] = await sentCopies(sandbox, upn, 'ids by draft');
    // What a send answered by draft leaves when the draft had no internet message id yet.
    const awaiting = row(0, {
      sendId: 'by-draft',
      sentAt: Date.now(),
      messageId: draft.id,
      internetMessageId: null,
      resolved: false,
    });
    const { store, writes } = recorder();
    sandbox.control.clearRequestLog();
    const [found] = await createSentIdResolver({ graph, store })(key, [awaiting], { log });
    expect(graphCalls(sandbox).map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /v1.0/me/messages/${encodeURIComponent(draft.id)}`,
    ]);
    expect(found).toMatchObject({
      messageId: copy!.immutableId,
      internetMessageId: copy!.internetMessageId,
      idsResolved: true,
    });
    expect(writes).toHaveLength(1);
  });

  it('rows that are not sent, already resolved, or stored without a send id cost no Graph request', async () => {
    const { store } = recorder();
    const base = row(0, {
      sendId: 's',
      sentAt: Date.now(),
      messageId: null,
      internetMessageId: null,
      resolved: false,
    });
    const rows = [
      { ...base, index: 0, state: 'queued' as const },
      { ...base, index: 1, state: 'failed' as const },
      { ...base, index: 2, idsResolved: true },
      { ...base, index: 3, sendId: undefined },
    ];
    expect(await createSentIdResolver({ graph, store })(key, rows, { log })).toEqual(rows);
    expect(graphCalls(sandbox)).toEqual([]);
  });

  it('never fails a read: a failed lookup or record write leaves what is known', async () => {
    const rows = [await sent('ids broken', 0)];
    await sentCopies(sandbox, upn, 'ids broken');
    // Graph throttles for longer than the read's budget: the row stays as it was.
    sandbox.control.injectFault({
      method: 'GET',
      path: '*/messages',
      status: 429,
      retryAfterSeconds: 120,
      count: 1,
    });
    try {
      const { store } = recorder();
      expect(await createSentIdResolver({ graph, store })(key, rows, { log })).toEqual(rows);
    } finally {
      sandbox.control.clearFaults();
    }
    // The record write fails: the ids are still in this answer.
    const { store } = recorder(true);
    const [shown] = await createSentIdResolver({ graph, store })(key, rows, { log });
    expect(shown).toMatchObject({ messageId: expect.any(String), idsResolved: true });
    // An unknown credential: nothing looked up, nothing thrown.
    const nobody = { serviceId: 'svc', credentialId: 'nobody@contoso.test' };
    expect(await createSentIdResolver({ graph, store })(nobody, rows, { log })).toEqual(rows);
  });
});
