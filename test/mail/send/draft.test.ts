import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { createDraft } from '../../../src/graph/drafts';
import { type DraftCreator, newDraft, prepareDraft } from '../../../src/mail/send/draft';
import { toGraphMessage } from '../../../src/mail/send/plan';
import { brokenFile, stageContext } from '../../support/send-stage';
import { type DocGraph, startDocGraph } from '../../support/send-doc-graph';
import { fileAttachment, outgoingMessage } from '../../support/send-fixtures';

/** Drafts for the draft route alone: made by a creator, filled, and never left behind on failure. */

let doc: DocGraph | undefined;
afterEach(async () => {
  await doc?.close();
  doc = undefined;
});

async function start(subject: string) {
  doc = await startDocGraph({ self: 'adele@doc.test' });
  const message = outgoingMessage('megan@doc.test', subject);
  const ctx = await stageContext(doc, message);
  return { doc, ctx, payload: toGraphMessage(message, ctx.sendId) };
}

describe('draft stage', () => {
  it('makes the draft with the given creator and adds the separate files to it', async () => {
    const { doc, ctx, payload } = await start('Prepared');
    const made: string[] = [];
    // Any way of making a draft (a reply, a forward) fits the same seam.
    const creator: DraftCreator = async (c) => {
      const draft = await createDraft(c.work, { ...payload, subject: 'Made by the creator' });
      made.push(draft.id);
      return draft;
    };
    const files = [
      fileAttachment('a.bin', randomBytes(1000)),
      fileAttachment('b.bin', randomBytes(5_000_000)),
    ];
    const draft = await prepareDraft(ctx, creator, files);
    expect(made).toEqual([draft.id]);
    const [stored] = doc.messages;
    expect(stored).toMatchObject({ id: draft.id, folder: 'drafts' });
    expect(stored!.message.subject).toBe('Made by the creator');
    expect(stored!.attachments.map((a) => [a.name, a.via])).toEqual([
      ['a.bin', 'json'],
      ['b.bin', 'session'],
    ]);
  });

  it('deletes the draft and cancels its open upload session when a file fails', async () => {
    const { doc, ctx, payload } = await start('Broken');
    const broken = brokenFile('broken.bin');
    await expect(prepareDraft(ctx, newDraft(payload), [broken])).rejects.toThrow(
      'the source broke',
    );
    expect(doc.messages).toEqual([]);
    expect(doc.requests.filter((r) => r.method === 'DELETE').map((r) => r.status)).toEqual([
      204, 204,
    ]);
  });

  it('finds and deletes a draft whose create answer was lost, then fails', async () => {
    const { doc, ctx, payload } = await start('Lost create');
    doc.loseAnswer('POST', /\/messages$/);
    const error = await prepareDraft(ctx, newDraft(payload), []).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'graph_unavailable' });
    expect(doc.messages).toEqual([]);
    const lookups = doc.requests.filter(
      (r) => r.method === 'GET' && r.path.endsWith('/mailFolders/drafts/messages'),
    );
    expect(lookups.length).toBeGreaterThan(0);
  });

  it('leaves nothing when the creator itself fails', async () => {
    const { doc, ctx } = await start('No draft');
    const failing: DraftCreator = () => Promise.reject(new Error('could not make the draft'));
    await expect(
      prepareDraft(ctx, failing, [fileAttachment('a.bin', randomBytes(10))]),
    ).rejects.toThrow('could not make the draft');
    expect(doc.requests).toEqual([]);
  });
});
