import { randomBytes } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { createDraft } from '../../../src/graph/drafts';
import {
  attachFile,
  cancelUploads,
  type OpenUploads,
  withFiles,
} from '../../../src/mail/send/attach';
import { toGraphMessage } from '../../../src/mail/send/plan';
import { brokenFile, stageContext } from '../../support/send-stage';
import { type DocGraph, type DocGraphOptions, startDocGraph } from '../../support/send-doc-graph';
import { fileAttachment, outgoingMessage } from '../../support/send-fixtures';

/** The attach stage alone, against a Graph that behaves as documented. */

let doc: DocGraph | undefined;
afterEach(async () => {
  await doc?.close();
  doc = undefined;
});

/** A context and an empty draft to attach to. */
async function draftFor(options: Partial<DocGraphOptions> = {}) {
  doc = await startDocGraph({ self: 'adele@doc.test', ...options });
  const uploads: Array<{ name: string; chunks: number }> = [];
  const message = outgoingMessage('megan@doc.test', 'Attach');
  const ctx = await stageContext(doc, message, {
    onUpload: ({ name, chunks }) => uploads.push({ name, chunks }),
  });
  const draft = await createDraft(ctx.work, toGraphMessage(message, ctx.sendId));
  doc.requests.length = 0;
  const stored = doc.messages.find((m) => m.id === draft.id)!;
  return { doc, ctx, draft, stored, uploads };
}

const calls = (d: DocGraph, method: string, path: RegExp) =>
  d.requests.filter((r) => r.method === method && path.test(r.path)).map((r) => r.status);

describe('attach stage', () => {
  it('puts files into a request body as base64, and leaves a payload without files alone', async () => {
    const payload = toGraphMessage(outgoingMessage('megan@doc.test', 'Body'), 'id');
    expect(await withFiles(payload, [])).toBe(payload);
    const bytes = randomBytes(100);
    const withOne = await withFiles(payload, [fileAttachment('a.bin', bytes)]);
    expect(withOne.attachments).toEqual([
      expect.objectContaining({ name: 'a.bin', contentBytes: bytes.toString('base64') }),
    ]);
    expect(payload.attachments).toBeUndefined();
  });

  it('posts a file whose request fits, in one POST /attachments', async () => {
    const { doc, ctx, draft, stored, uploads } = await draftFor();
    const open: OpenUploads = new Set();
    await attachFile(ctx, draft.id, fileAttachment('small.bin', randomBytes(2_000_000)), open);
    expect(stored.attachments).toEqual([{ name: 'small.bin', size: 2_000_000, via: 'json' }]);
    expect(calls(doc, 'POST', /\/attachments$/)).toEqual([201]);
    expect(uploads).toEqual([]);
    expect(open.size).toBe(0);
  });

  it('uploads a bigger file by upload session, chunk by chunk, and reports it', async () => {
    const { doc, ctx, draft, stored, uploads } = await draftFor();
    const open: OpenUploads = new Set();
    await attachFile(ctx, draft.id, fileAttachment('big.bin', randomBytes(9_000_000)), open);
    expect(stored.attachments).toEqual([{ name: 'big.bin', size: 9_000_000, via: 'session' }]);
    expect(calls(doc, 'POST', /\/attachments$/)).toEqual([]);
    expect(uploads).toEqual([{ name: 'big.bin', chunks: 3 }]);
    expect(open.size).toBe(0);
  });

  it('posts instead when Graph refuses the session as under its minimum (3 MB counted as 3 MiB)', async () => {
    const { doc, ctx, draft, stored } = await draftFor({
      minSessionBytes: 3 * 1024 * 1024,
      maxPostBytes: 3 * 1024 * 1024,
      maxRequestBytes: 4 * 1024 * 1024,
    });
    await attachFile(ctx, draft.id, fileAttachment('f.bin', randomBytes(3_050_000)), new Set());
    expect(calls(doc, 'POST', /\/createUploadSession$/)).toEqual([400]);
    expect(stored.attachments).toEqual([{ name: 'f.bin', size: 3_050_000, via: 'json' }]);
  });

  it('uses a session instead when Graph refuses the POST for its size (413)', async () => {
    const { doc, ctx, draft, stored } = await draftFor({
      maxPostBytes: 2_000_000,
      minSessionBytes: 2_000_000,
    });
    await attachFile(ctx, draft.id, fileAttachment('f.bin', randomBytes(2_500_000)), new Set());
    expect(calls(doc, 'POST', /\/attachments$/)).toEqual([413]);
    expect(stored.attachments).toEqual([{ name: 'f.bin', size: 2_500_000, via: 'session' }]);
  });

  it('leaves a session that failed midway open for cleanup, and cancelUploads cancels it', async () => {
    const { doc, ctx, draft } = await draftFor();
    const broken = brokenFile('broken.bin');
    const open: OpenUploads = new Set();
    await expect(attachFile(ctx, draft.id, broken, open)).rejects.toThrow('the source broke');
    expect(open.size).toBe(1);
    await cancelUploads(ctx, open);
    expect(calls(doc, 'DELETE', /^\/upload\//)).toEqual([204]);
  });
});
