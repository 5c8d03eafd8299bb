import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { PayloadTooLargeError } from '../../../src/core/errors';
import { createDraft } from '../../../src/graph/drafts';
import { withFiles } from '../../../src/mail/send/attach';
import { toGraphMessage } from '../../../src/mail/send/plan';
import { submitDraft, submitMessage } from '../../../src/mail/send/submit';
import { stageContext } from '../../support/send-stage';
import { type DocGraph, type DocGraphOptions, startDocGraph } from '../../support/send-doc-graph';
import { fileAttachment, outgoingMessage } from '../../support/send-fixtures';

/** The submit stage alone: commit first, one irreversible request, a lost answer handed on. */

let doc: DocGraph | undefined;
afterEach(async () => {
  await doc?.close();
  doc = undefined;
});

async function start(options: Partial<DocGraphOptions> = {}) {
  doc = await startDocGraph({ self: 'adele@doc.test', ...options });
  const d = doc;
  const commits: Array<{ sendId: string; requestsSoFar: number }> = [];
  const message = outgoingMessage('megan@doc.test', 'Submit');
  const ctx = await stageContext(doc, message, {
    commit: (sendId) => {
      commits.push({ sendId, requestsSoFar: d.requests.length });
      return Promise.resolve();
    },
  });
  return { doc, ctx, commits, payload: toGraphMessage(message, ctx.sendId) };
}

const sends = (d: DocGraph) =>
  d.requests.filter((r) => r.method === 'POST' && /\/(sendMail|send)$/.test(r.path));

describe('submit stage', () => {
  it('commits, then sends once by sendMail', async () => {
    const { doc, ctx, commits, payload } = await start();
    await expect(submitMessage(ctx, payload)).resolves.toEqual({
      at: expect.any(Number),
      answered: true,
    });
    expect(commits).toEqual([{ sendId: ctx.sendId, requestsSoFar: 0 }]);
    expect(sends(doc).map((r) => r.status)).toEqual([202]);
    expect(doc.messages.map((m) => m.folder)).toEqual(['sentitems']);
  });

  it('hands a lost answer on without sending again (the message went)', async () => {
    const { doc, ctx, payload } = await start();
    doc.loseAnswer('POST', /\/sendMail$/);
    const submission = await submitMessage(ctx, payload);
    expect(submission).toMatchObject({ answered: false, error: { code: 'graph_unavailable' } });
    expect(sends(doc)).toHaveLength(1);
    expect(doc.messages.map((m) => m.folder)).toEqual(['sentitems']);
  });

  it('throws a definite refusal', async () => {
    const { doc, ctx, payload } = await start({ maxPostBytes: 10 });
    const withFile = await withFiles(payload, [fileAttachment('a.bin', randomBytes(100))]);
    await expect(submitMessage(ctx, withFile)).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(doc.messages).toEqual([]);
  });

  it('sends nothing when the commit fails', async () => {
    const { doc, ctx, payload } = await start();
    const failing = { ...ctx, commit: () => Promise.reject(new Error('store down')) };
    await expect(submitMessage(failing, payload)).rejects.toThrow('store down');
    expect(sends(doc)).toEqual([]);
  });

  it('sends a prepared draft with /send after committing', async () => {
    const { doc, ctx, commits, payload } = await start();
    const draft = await createDraft(ctx.work, payload);
    await expect(submitDraft(ctx, draft.id)).resolves.toEqual({
      at: expect.any(Number),
      answered: true,
    });
    expect(commits).toEqual([{ sendId: ctx.sendId, requestsSoFar: 1 }]);
    expect(sends(doc).map((r) => r.path)).toEqual([`/me/messages/${draft.id}/send`]);
    expect(doc.messages.map((m) => m.folder)).toEqual(['sentitems']);
  });
});
