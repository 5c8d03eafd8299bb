import { afterEach, describe, expect, it } from 'vitest';

import { budgetSignal } from '../../../src/core/abort';
import { SendOutcomeUnknownError, UpstreamError } from '../../../src/core/errors';
import { createLogger } from '../../../src/core/logger';
import { createDraft } from '../../../src/graph/drafts';
import { sendDraft, sendMail } from '../../../src/graph/send';
import { confirmDraftSend, confirmSendMail, lookFor } from '../../../src/mail/send/confirm';
import { type ConfirmTimings } from '../../../src/mail/send/context';
import { type SendRecord } from '../../../src/mail/send/records';
import { toGraphMessage } from '../../../src/mail/send/plan';
import { type OutgoingMessage } from '../../../src/mail/send-types';
import { stageContext } from '../../support/send-stage';
import { type DocGraph, startDocGraph } from '../../support/send-doc-graph';
import { outgoingMessage } from '../../support/send-fixtures';

/** The confirm stage alone: what happened to a submitted message, and its ids. */

const timings: ConfirmTimings = {
  lostAnswerMs: 500,
  afterSendMs: 300,
  firstDelayMs: 20,
};

describe('lookFor', () => {
  const warnings: string[] = [];
  const log = createLogger((level, line) => {
    if (level === 'warn') warnings.push(line);
  });

  it('answers as soon as the lookup finds it, treating failed lookups as "not yet"', async () => {
    let calls = 0;
    const found = await lookFor(
      { abortSignal: undefined, log, timings },
      () => {
        calls++;
        if (calls === 1) return Promise.reject(new UpstreamError('graph_unavailable', 'blip'));
        return Promise.resolve(calls === 3 ? 'it' : null);
      },
      5000,
    );
    expect(found).toBe('it');
    expect(calls).toBe(3);
    expect(warnings.some((line) => line.includes('send lookup failed'))).toBe(true);
  });

  it('gives up with null when its own time is up', async () => {
    let calls = 0;
    const found = await lookFor(
      { abortSignal: undefined, log, timings },
      () => {
        calls++;
        return Promise.resolve(null);
      },
      200,
    );
    expect(found).toBeNull();
    expect(calls).toBeGreaterThan(1);
  });

  it("stops within the caller's budget, keeping half a second back", async () => {
    let calls = 0;
    const found = await lookFor(
      { abortSignal: budgetSignal(400), log, timings },
      () => {
        calls++;
        return Promise.resolve(null);
      },
      60_000,
    );
    expect(found).toBeNull();
    expect(calls).toBe(1);
  });

  it('stops when the signal aborts during a pause', async () => {
    const controller = new AbortController();
    let calls = 0;
    const found = await lookFor(
      { abortSignal: controller.signal, log, timings: { ...timings, firstDelayMs: 60_000 } },
      () => {
        calls++;
        setTimeout(() => controller.abort(), 10);
        return Promise.resolve(null);
      },
      600_000,
    );
    expect(found).toBeNull();
    expect(calls).toBe(1);
  });
});

describe('confirm stage', () => {
  let doc: DocGraph | undefined;
  afterEach(async () => {
    await doc?.close();
    doc = undefined;
  });

  async function start(extra: Partial<OutgoingMessage> = {}) {
    doc = await startDocGraph({ self: 'adele@doc.test' });
    const message = outgoingMessage('megan@doc.test', 'Confirm', extra);
    const ctx = await stageContext(doc, message, { timings });
    return { doc, ctx, payload: toGraphMessage(message, ctx.sendId) };
  }

  const at = Date.parse('2026-12-06T05:00:00Z');
  const lost = {
    at,
    answered: false as const,
    error: new UpstreamError('graph_unavailable', 'lost'),
  };
  const answered = { at, answered: true as const };

  it('answers an accepted sendMail at once, leaving its ids to its record (no lookup)', async () => {
    const { doc, ctx, payload } = await start();
    const remembered: SendRecord[] = [];
    ctx.remember = (record) => Promise.resolve(void remembered.push(record));
    await sendMail(ctx.work, payload, true);
    const before = doc.requests.length;
    const result = await confirmSendMail(ctx, answered);
    expect(result).toEqual({
      sendId: ctx.sendId,
      status: 'sent',
      messageId: null,
      internetMessageId: null,
      sentAt: '2026-12-06T05:00:00.000Z',
    });
    expect(doc.requests.slice(before)).toEqual([]);
    expect(remembered).toEqual([
      {
        sendId: ctx.sendId,
        status: 'sent',
        sentAt: at,
        via: 'sendMail',
        savedToSentItems: true,
        messageId: null,
        internetMessageId: null,
        resolved: false,
      },
    ]);
  });

  it('resolves a lost sendMail answer by finding the copy by its send id', async () => {
    const { doc, ctx, payload } = await start();
    await sendMail(ctx.work, payload, true);
    const result = await confirmSendMail(ctx, lost);
    expect(result.messageId).toBe(doc.messages[0]!.id);
  });

  it('reports an unknown outcome when a lost sendMail cannot be found', async () => {
    const { ctx } = await start();
    const error = await confirmSendMail(ctx, lost).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendOutcomeUnknownError);
    expect(error).toMatchObject({ sendId: ctx.sendId });
  });

  it('does not look for a lost sendMail kept out of Sent Items, and has no ids for a kept-out one', async () => {
    const { doc, ctx } = await start({ saveToSentItems: false });
    await expect(confirmSendMail(ctx, lost)).rejects.toBeInstanceOf(SendOutcomeUnknownError);
    await expect(confirmSendMail(ctx, answered)).resolves.toMatchObject({
      messageId: null,
      internetMessageId: null,
    });
    expect(doc.requests).toEqual([]);
  });

  it("queues the deletion of a sent draft's copy not to be kept, once its record is stored, without waiting for it", async () => {
    const { doc, ctx, payload } = await start({ saveToSentItems: false });
    const steps: string[] = [];
    ctx.remember = (record) => Promise.resolve(void steps.push(`remember ${record.copyDeletion}`));
    ctx.deleteCopyLater = (record) =>
      Promise.resolve(void steps.push(`delete later ${record.draftId}`));
    const draft = await createDraft(ctx.work, payload);
    await sendDraft(ctx.work, draft.id);
    const before = doc.requests.length;
    const result = await confirmDraftSend(ctx, draft, answered);
    expect(result).toMatchObject({ messageId: null, internetMessageId: null });
    expect(steps).toEqual(['remember pending', `delete later ${draft.id}`]);
    expect(doc.requests.slice(before)).toEqual([]);
    // The copy is there for the queued job (Graph's /send always keeps one).
    expect(doc.messages.map((m) => m.folder)).toEqual(['sentitems']);
  });

  it('queues the deletion also when the outcome is unknown, before reporting it', async () => {
    const { ctx, payload } = await start({ saveToSentItems: false });
    const queued: SendRecord[] = [];
    ctx.deleteCopyLater = (record) => Promise.resolve(void queued.push(record));
    const draft = await createDraft(ctx.work, payload);
    await expect(confirmDraftSend(ctx, draft, lost)).rejects.toBeInstanceOf(
      SendOutcomeUnknownError,
    );
    expect(queued).toMatchObject([{ status: 'unknown', draftId: draft.id }]);
  });

  it('resolves a lost /send by the draft id, or reports the outcome unknown while it is still a draft', async () => {
    const { doc, ctx, payload } = await start();
    const draft = await createDraft(ctx.work, payload);
    await expect(confirmDraftSend(ctx, draft, lost)).rejects.toBeInstanceOf(
      SendOutcomeUnknownError,
    );
    expect(doc.messages.map((m) => m.folder)).toEqual(['drafts']);
    await sendDraft(ctx.work, draft.id);
    await expect(confirmDraftSend(ctx, draft, lost)).resolves.toMatchObject({
      messageId: draft.id,
    });
  });

  it("gives a sent draft's ids at once: its immutable id and internetMessageId", async () => {
    const { doc, ctx, payload } = await start();
    const draft = await createDraft(ctx.work, payload);
    await sendDraft(ctx.work, draft.id);
    const before = doc.requests.length;
    await expect(confirmDraftSend(ctx, draft, answered)).resolves.toEqual({
      sendId: ctx.sendId,
      status: 'sent',
      messageId: draft.id,
      internetMessageId: draft.internetMessageId,
      sentAt: '2026-12-06T05:00:00.000Z',
    });
    expect(draft.internetMessageId).not.toBeNull();
    expect(doc.requests.slice(before)).toEqual([]);
  });
});
