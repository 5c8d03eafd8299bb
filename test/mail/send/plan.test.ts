import { describe, expect, it } from 'vitest';

import { sendIdProperty } from '../../../src/graph/send';
import {
  attachmentShell,
  type OpenedMailbox,
  planSend,
  toGraphMessage,
} from '../../../src/mail/send/plan';
import { type AttachmentInput, type OutgoingMessage } from '../../../src/mail/send-types';
import { outgoingMessage } from '../../support/send-fixtures';

/** The plan stage alone: pure, and it never reads a file. */

const OWN: OpenedMailbox = {
  root: '/me',
  mailboxAddress: 'adele@contoso.test',
  signedInAddress: 'adele@contoso.test',
};
const SHARED: OpenedMailbox = {
  root: '/users/support%40contoso.test',
  mailboxAddress: 'support@contoso.test',
  signedInAddress: 'adele@contoso.test',
};

/** A file of `size` bytes whose content the plan must never need. */
const file = (name: string, size: number): AttachmentInput => ({
  name,
  contentType: 'application/octet-stream',
  size,
  open: () => {
    throw new Error('the plan read a file');
  },
});

const message = (attachments: AttachmentInput[], extra: Partial<OutgoingMessage> = {}) =>
  outgoingMessage('megan@contoso.test', 'Plan', { attachments, ...extra });

const names = (files: AttachmentInput[]) => files.map((f) => f.name);

describe('plan stage', () => {
  it('sends by sendMail while the whole request fits, the files riding along', () => {
    const plan = planSend(message([file('a', 1000), file('b', 2000)]), 'id-1', OWN);
    expect(plan.route).toBe('sendMail');
    expect(names(plan.packed)).toEqual(['a', 'b']);
    expect(plan.separate).toEqual([]);
    expect(plan.sendingAs).toBe('adele@contoso.test');
    expect(plan.draftMailbox).toBeUndefined();
    expect(plan.payload.singleValueExtendedProperties).toEqual([sendIdProperty('id-1')]);
    expect(plan.payload.attachments).toBeUndefined();
  });

  it('counts the sendMail request to the byte: 4,000,000 goes, one base64 group more does not', () => {
    const probe = message([file('f', 0)]);
    const json = Buffer.byteLength(
      JSON.stringify({
        message: { ...toGraphMessage(probe, 'id-2'), attachments: [attachmentShell(file('f', 0))] },
        saveToSentItems: true,
      }),
    );
    const room = 4_000_000 - json;
    const largest = Math.floor(room / 4) * 3;
    expect(planSend(message([file('f', largest)]), 'id-2', OWN).route).toBe('sendMail');
    expect(planSend(message([file('f', largest + 1)]), 'id-2', OWN).route).toBe('draft');
  });

  it('drafts a bigger message: files ride in the create request while it fits, the rest go one by one', () => {
    const plan = planSend(
      message([file('big', 5_000_000), file('a', 1_500_000), file('b', 1_500_000)]),
      'id-3',
      OWN,
    );
    expect(plan.route).toBe('draft');
    expect(names(plan.packed)).toEqual(['a']);
    expect(names(plan.separate)).toEqual(['big', 'b']);
    expect(plan.draftMailbox).toBeUndefined();
  });

  it('drafts in the signed-in mailbox, from the shared one, when a file needs an upload session', () => {
    const plan = planSend(
      message([file('big', 5_000_000)], { mailbox: 'support@contoso.test' }),
      'id-4',
      SHARED,
    );
    expect(plan.route).toBe('draft');
    expect(plan.draftMailbox).toBe('adele@contoso.test');
    expect(plan.sendingAs).toBe('support@contoso.test');
    expect(plan.payload.from).toEqual({ emailAddress: { address: 'support@contoso.test' } });
  });

  it('keeps a caller-given from when it drafts in the signed-in mailbox', () => {
    const from = { address: 'team@contoso.test', name: 'Team' };
    const plan = planSend(message([file('big', 5_000_000)], { from }), 'id-5', SHARED);
    expect(plan.draftMailbox).toBe('adele@contoso.test');
    expect(plan.sendingAs).toBe('team@contoso.test');
    expect(plan.payload.from).toEqual({ emailAddress: from });
  });

  it('stays in the shared mailbox when every file can be posted', () => {
    const plan = planSend(message([file('a', 2_500_000), file('b', 2_500_000)]), 'id-6', SHARED);
    expect(plan.route).toBe('draft');
    expect(plan.draftMailbox).toBeUndefined();
    expect(plan.payload.from).toBeUndefined();
    expect(names(plan.packed)).toEqual(['a']);
    expect(names(plan.separate)).toEqual(['b']);
  });
});

describe('plan stage for replies and forwards', () => {
  const answer = (
    kind: 'reply' | 'replyAll' | 'forward',
    attachments: AttachmentInput[] = [],
    extra: Partial<OutgoingMessage> = {},
  ) =>
    message(attachments, {
      to: kind === 'forward' ? [{ address: 'megan@contoso.test' }] : [],
      body: 'Fine <b>\nThanks & bye',
      inResponseTo: { kind, messageId: 'AAkALg-original' },
      ...extra,
    });

  it("answers in one action request carrying only the caller's fields and the send id", () => {
    const plan = planSend(
      answer('reply', [file('a', 1000)], { bcc: [{ address: 'audit@contoso.test' }] }),
      'id-r',
      OWN,
    );
    expect(plan.route).toBe('sendMail');
    expect(plan.response).toEqual({
      kind: 'reply',
      messageId: 'AAkALg-original',
      comment: 'Fine &lt;b&gt;<br>\r\nThanks &amp; bye',
      addCc: [],
    });
    // Graph writes subject, body and the reply's recipients from the original.
    expect(plan.payload).toEqual({
      bccRecipients: [{ emailAddress: { address: 'audit@contoso.test' } }],
      singleValueExtendedProperties: [sendIdProperty('id-r')],
    });
    expect(names(plan.packed)).toEqual(['a']);
  });

  it('keeps an html body as given and puts forward recipients in the message', () => {
    const plan = planSend(answer('forward', [], { contentType: 'html' }), 'id-f', OWN);
    expect(plan.response?.comment).toBe('Fine <b>\nThanks & bye');
    expect(plan.payload.toRecipients).toEqual([
      { emailAddress: { address: 'megan@contoso.test' } },
    ]);
  });

  it('drafts a replyAll that adds Cc, and an answer too large for one request', () => {
    const cc = [{ address: 'lead@contoso.test' }];
    const all = planSend(answer('replyAll', [], { cc }), 'id-a', OWN);
    expect(all.route).toBe('draft');
    expect(all.response?.addCc).toEqual([{ emailAddress: { address: 'lead@contoso.test' } }]);
    expect(all.payload.ccRecipients).toBeUndefined();
    const large = planSend(answer('reply', [file('a', 1000), file('big', 5_000_000)]), 'id-l', OWN);
    expect(large.route).toBe('draft');
    expect(large.packed).toEqual([]);
    expect(names(large.separate)).toEqual(['a', 'big']);
  });

  it('refuses, naming the file, an answer from a shared mailbox with a file only a session could carry', () => {
    const big = { ...file('big', 5_000_000), path: 'files[1]' };
    expect(() => planSend(answer('reply', [file('a', 10), big]), 'id-s', SHARED)).toThrow(
      expect.objectContaining({
        code: 'validation_failed',
        errors: [expect.objectContaining({ path: 'files[1]' })],
      }),
    );
    // Files POST /attachments can carry are fine there.
    expect(
      planSend(answer('reply', [file('a', 2_500_000), file('b', 2_500_000)]), 'id-t', SHARED).route,
    ).toBe('draft');
  });
});
