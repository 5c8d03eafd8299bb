import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../src/core/abort';
import { SendOutcomeUnknownError } from '../../src/core/errors';
import { createLogger } from '../../src/core/logger';
import { createIdempotencyStore, type IdempotencyStore } from '../../src/mail/idempotency';
import { createSendService, type IdempotentSendOutcome } from '../../src/mail/send';
import { type SendRecord } from '../../src/mail/send/records';
import { type OutgoingMessage, type SendService } from '../../src/mail/send-types';
import { sentCopies } from '../support/sent-items';
import { startTestStack, type TestStack } from '../support/stack';
import { fileAttachment, outgoingMessage } from '../support/send-fixtures';

/**
 * The send service against the sandbox with short lookup windows: lost answers that cannot be
 * resolved, cleanup after failed uploads, and the record that stops a repeat from sending.
 */

const MiB = 1024 * 1024;
const log = createLogger(() => undefined, {});
const key = { serviceId: 'svc', credentialId: 'c1' };
let stack: TestStack;
let service: SendService;
let sender: string;
let recipient: string;
/** What the service queued for deletion (the queue itself is tested in sent-copy.test.ts). */
let scheduled: SendRecord[] = [];
let failSchedule = false;

const message = (subject: string, extra: Partial<OutgoingMessage> = {}) =>
  outgoingMessage(recipient, subject, extra);
const file = fileAttachment;

const sendCalls = () =>
  stack.sandbox.control.requestLog().filter((e) => /\/(sendmail|send)$/i.test(e.path));
const sent = (subject: string) =>
  stack.sandbox.control.sentItems(sender).filter((m) => m.subject === subject);
const drafts = (subject: string) =>
  stack.sandbox.control.messages(sender, 'drafts').filter((m) => m.subject === subject);
const delivered = (subject: string) =>
  stack.sandbox.control.messages(recipient, 'inbox').filter((m) => m.subject === subject);

beforeAll(async () => {
  stack = await startTestStack({ services: ['svc'] });
  sender = stack.sandbox.users[0]!.userPrincipalName;
  recipient = stack.sandbox.users[1]!.userPrincipalName;
  await stack.connect('c1');
  service = createSendService({
    graph: stack.app.services.graph,
    idempotency: createIdempotencyStore<IdempotentSendOutcome>({
      table: () => stack.app.services.storage!.table('idempotencysvctest'),
    }),
    sentCopies: {
      schedule: (_credential, record) => {
        if (failSchedule) return Promise.reject(new Error('queue down'));
        scheduled.push(record);
        return Promise.resolve();
      },
    },
    maxMessageSizeBytes: 35 * MiB,
    confirm: { lostAnswerMs: 600, afterSendMs: 300, firstDelayMs: 100 },
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(() => {
  scheduled = [];
  stack.sandbox.control.clearFaults();
  stack.sandbox.control.clearRequestLog();
});

describe('send service: outcomes Graph does not tell', () => {
  it('reports send_outcome_unknown after a 503 it cannot resolve, and a repeat sends nothing', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/sendMail',
      status: 503,
      count: 1,
    });
    const options = () => ({
      abortSignal: budgetSignal(20_000),
      log,
      idempotency: { key: 'unknown-1', fingerprint: 'f1' },
    });
    const first = await service.send(key, message('Unknown 1'), options()).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SendOutcomeUnknownError);
    expect(sendCalls()).toHaveLength(1);

    const repeat = await service
      .send(key, message('Unknown 1'), options())
      .catch((e: unknown) => e);
    expect(repeat).toBeInstanceOf(SendOutcomeUnknownError);
    expect((repeat as SendOutcomeUnknownError).sendId).toBe(
      (first as SendOutcomeUnknownError).sendId,
    );
    expect(sendCalls()).toHaveLength(1);
    expect(sent('Unknown 1')).toHaveLength(0);
  });

  it('does not retry a lost sendMail with saveToSentItems=false (nothing to look up)', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/sendMail',
      afterAccept: true,
      count: 1,
    });
    const error = await service
      .send(key, message('Unsaved lost', { saveToSentItems: false }), {
        abortSignal: budgetSignal(20_000),
        log,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendOutcomeUnknownError);
    expect(sendCalls()).toHaveLength(1);
    expect(delivered('Unsaved lost')).toHaveLength(1);
  });

  it('keeps the draft when a /send answer is lost and the message cannot be found', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/messages/*/send',
      status: 504,
      count: 1,
    });
    const error = await service
      .send(key, message('Draft unknown', { attachments: [file('a.bin', randomBytes(4 * MiB))] }), {
        abortSignal: budgetSignal(20_000),
        log,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendOutcomeUnknownError);
    expect(sendCalls()).toHaveLength(1);
    expect(drafts('Draft unknown')).toHaveLength(1);
  });

  it('repeats a throttled sendMail (429 is answered before anything is sent)', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/sendMail',
      status: 429,
      retryAfterSeconds: 0,
      count: 1,
    });
    const result = await service.send(key, message('After 429'), {
      abortSignal: budgetSignal(20_000),
      log,
    });
    expect(result.status).toBe('sent');
    expect(sendCalls()).toHaveLength(2);
    expect(delivered('After 429')).toHaveLength(1);
  });
});

describe('send service: failures before sending leave nothing behind', () => {
  it('deletes the draft and cancels the upload session when chunks keep failing', async () => {
    stack.sandbox.control.injectFault({
      method: 'PUT',
      path: '/api/v2.0/*',
      drop: true,
      count: 1000,
    });
    const error = await service
      .send(key, message('Upload fails', { attachments: [file('b.bin', randomBytes(8 * MiB))] }), {
        abortSignal: budgetSignal(6000),
        log,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'graph_unavailable' });
    expect(sendCalls()).toHaveLength(0);
    expect(drafts('Upload fails')).toEqual([]);
    const log2 = stack.sandbox.control.requestLog();
    expect(log2.some((e) => e.method === 'DELETE' && /AttachmentSessions/i.test(e.path))).toBe(
      true,
    );
    expect(log2.some((e) => e.method === 'DELETE' && /\/messages\//.test(e.path))).toBe(true);
  }, 20_000);

  it('deletes the draft when adding a small attachment fails', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/attachments',
      status: 503,
      count: 1,
    });
    const error = await service
      .send(
        key,
        message('Attach fails', {
          attachments: [
            file('big.bin', randomBytes(3 * MiB + 1)),
            file('s1', randomBytes(2 * MiB)),
            file('s2', randomBytes(2 * MiB)),
          ],
        }),
        { abortSignal: budgetSignal(20_000), log },
      )
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'graph_unavailable' });
    expect(drafts('Attach fails')).toEqual([]);
    expect(sendCalls()).toHaveLength(0);
  });
});

describe('send service: saveToSentItems=false on the draft flow', () => {
  const large = (subject: string) =>
    message(subject, {
      saveToSentItems: false,
      attachments: [file('big.bin', randomBytes(3 * MiB + 1))],
    });

  it('resolves a /send whose answer was lost, sends once, and queues the deletion of its copy', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/messages/*/send',
      afterAccept: true,
      count: 1,
    });
    const result = await service.send(key, large('Unsaved lost draft'), {
      abortSignal: budgetSignal(20_000),
      log,
    });
    expect(result).toMatchObject({ status: 'sent', messageId: null, internetMessageId: null });
    expect(sendCalls()).toHaveLength(1);
    expect(scheduled).toMatchObject([
      { sendId: result.sendId, status: 'sent', via: 'draft', copyDeletion: 'pending' },
    ]);
    expect(drafts('Unsaved lost draft')).toEqual([]);
    expect(delivered('Unsaved lost draft')).toHaveLength(1);
  });

  it('answers without waiting for the copy; one that cannot be queued stays, with an error logged', async () => {
    const lines: string[] = [];
    const watched = createLogger((level, line) => lines.push(`${level} ${line}`), {});
    failSchedule = true;
    try {
      const result = await service.send(key, large('Unsaved unqueued'), {
        abortSignal: budgetSignal(20_000),
        log: watched,
      });
      expect(result).toMatchObject({ status: 'sent', messageId: null });
    } finally {
      failSchedule = false;
    }
    expect(lines.some((l) => l.startsWith('error') && l.includes('could not queue'))).toBe(true);
    // Documented: the copy Graph keeps then stays in Sent Items; the mail went once.
    expect(await sentCopies(stack.sandbox, sender, 'Unsaved unqueued')).toHaveLength(1);
    expect(delivered('Unsaved unqueued')).toHaveLength(1);
  });
});

describe('send service: answers lost before sending leave nothing behind', () => {
  it('finds and deletes a draft whose create answer was lost', async () => {
    stack.sandbox.control.injectFault({
      method: 'POST',
      path: '*/me/messages',
      afterAccept: true,
      count: 1,
    });
    const error = await service
      .send(key, message('Create lost', { attachments: [file('c.bin', randomBytes(4 * MiB))] }), {
        abortSignal: budgetSignal(20_000),
        log,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'graph_unavailable' });
    const calls = stack.sandbox.control.requestLog();
    expect(calls.filter((e) => e.method === 'POST' && /\/me\/messages$/.test(e.path))).toEqual([
      expect.objectContaining({ status: 504 }),
    ]);
    expect(calls.some((e) => e.method === 'DELETE' && /\/messages\//.test(e.path))).toBe(true);
    expect(sendCalls()).toHaveLength(0);
    expect(drafts('Create lost')).toEqual([]);
  });
});

describe('send service: a crash after Graph accepted the send', () => {
  it('never sends again when the result was not recorded (the repeat reports unknown)', async () => {
    const table = () => stack.app.services.storage!.table('idempotencycrashtest');
    const store = createIdempotencyStore<IdempotentSendOutcome>({
      table,
      leaseGraceMs: 0,
      pollMs: 100,
    });
    // The first attempt "dies" between Graph's 202 and writing the result.
    const crashing: IdempotencyStore<IdempotentSendOutcome> = {
      async begin(...args) {
        const begun = await store.begin(...args);
        if (begun.kind === 'replay') return begun;
        const claim = { ...begun.claim, complete: () => Promise.reject(new Error('crashed')) };
        return { ...begun, claim };
      },
    };
    const make = (idempotency: IdempotencyStore<IdempotentSendOutcome>) =>
      createSendService({
        graph: stack.app.services.graph,
        idempotency,
        maxMessageSizeBytes: 35 * MiB,
        confirm: { lostAnswerMs: 600, afterSendMs: 300, firstDelayMs: 100 },
      });
    const idempotency = { key: 'crash-1', fingerprint: 'f' };
    const first = await make(crashing).send(key, message('Crashed'), {
      abortSignal: budgetSignal(2000),
      log,
      idempotency,
    });
    expect(first.status).toBe('sent');

    const repeat = await make(store)
      .send(key, message('Crashed'), { abortSignal: budgetSignal(10_000), log, idempotency })
      .catch((e: unknown) => e);
    expect(repeat).toBeInstanceOf(SendOutcomeUnknownError);
    expect((repeat as SendOutcomeUnknownError).sendId).toBe(first.sendId);
    expect(sendCalls()).toHaveLength(1);
    expect(delivered('Crashed')).toHaveLength(1);
  }, 20_000);
});
