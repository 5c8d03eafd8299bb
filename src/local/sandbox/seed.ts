import {
  type MailStore,
  type Mailbox,
  type Folder,
  type ItemBody,
  type Recipient,
  type UserRecord,
  newMessage,
  NOT_FLAGGED,
  type StoredMessage,
} from './store';
import { wrapHtml } from './views';
import { createPrng, pick, prngGuid, type Prng, structuredId } from './util';

const CONVERSATION_PREFIX = Buffer.from('AAQkADAw', 'base64');
const ATTACHMENT_PREFIX = Buffer.from('AAMkADAtAAAB', 'base64');

export interface SeedOptions {
  seed: number;
  messagesPerUser: number;
  nowMs: number;
}

const DAY = 86_400_000;
const FLAGGED = Object.freeze({ flagStatus: 'flagged' });
const BLUE = Object.freeze(['Blue category']);

const EXTERNAL_SENDERS: Array<[string, string]> = [
  ['Dana Swope', 'danas@fabrikam.example'],
  ['Elliot Hyde', 'elliot-hyde@tailspintoys.example'],
  ['Samantha Booth', 'samanthab@northwind.example'],
  ['Randi Welch', 'randiw@woodgrove.example'],
  ['Jodie Sharp', 'jodie.sharp@litware.example'],
  ['Microsoft Planner', 'noreply@planner.office365.example'],
  ['Contoso Newsletter', 'news@mail.contoso-news.example'],
  ["Ian O'Brien", 'ian.obrien@adatum.example'],
];

const TOPICS = [
  'Quarterly budget review',
  'Project Falcon kickoff',
  'Invoice #{n} from Fabrikam',
  'Your weekly digest',
  'Holiday hours update',
  'Contract renewal 2026',
  'Team offsite planning',
  'Re: design review notes',
  'Security alert: new sign-in',
  "Customer's feedback on release {n}",
  'Lunch on Friday?',
  'Migration status report',
];

const SENTENCES = [
  'Please find the latest numbers attached.',
  'Can we move the meeting to Thursday afternoon?',
  'The new cafeteria is open.',
  'Let me know if you have any questions.',
  'We shipped the release to production last night & monitoring looks good.',
  'Attached is the signed contract <final version>.',
  'Thanks for the quick turnaround on this.',
  'The group represents Nevada.',
];

const bodies = new Map<string, ItemBody>();

/** Bodies are shared between seeded messages (never mutated in place; PATCH replaces them). */
function seedBody(paragraphs: number[], html: boolean, firstName: string): ItemBody {
  const key = `${html ? 'h' : `t${firstName}`}:${paragraphs.join(',')}`;
  let body = bodies.get(key);
  if (!body) {
    const texts = paragraphs.map((i) => SENTENCES[i]!);
    body = html
      ? {
          contentType: 'html',
          content: wrapHtml(
            texts
              .map(
                (p) =>
                  `<p>${p.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</p>`,
              )
              .join('\r\n'),
          ),
        }
      : { contentType: 'text', content: `Hi ${firstName},\r\n\r\n${texts.join('\r\n')}\r\n` };
    bodies.set(key, body);
  }
  return body;
}

/** Deterministic seed data: users, folder trees and realistic mail, a function of `seed` only (plus now). */
export function seedStore(store: MailStore, opts: SeedOptions): void {
  const rnd = createPrng(opts.seed);
  const people: UserRecord[] = [
    {
      id: prngGuid(rnd),
      userPrincipalName: 'adele@contoso.test',
      mail: 'adele@contoso.test',
      displayName: 'Adele Vance',
      givenName: 'Adele',
      surname: 'Vance',
      jobTitle: 'Retail Manager',
      canSignIn: true,
      // Secondary addresses as an admin adds them (case kept as typed, as Exchange keeps it).
      aliases: ['Adele.Vance@contoso.test', 'sales@contoso.test'],
    },
    {
      id: prngGuid(rnd),
      userPrincipalName: 'megan@contoso.test',
      mail: 'megan@contoso.test',
      displayName: 'Megan Bowen',
      givenName: 'Megan',
      surname: 'Bowen',
      jobTitle: 'Marketing Manager',
      canSignIn: true,
      aliases: ['megan.bowen@contoso.test'],
    },
    {
      id: prngGuid(rnd),
      userPrincipalName: 'support@contoso.test',
      mail: 'support@contoso.test',
      displayName: 'Contoso Support',
      givenName: null,
      surname: null,
      jobTitle: null,
      canSignIn: false,
    },
  ];
  const mailboxes = people.map((u) => store.addUser(u));
  // Adele works the support queue: full access and send-as on the shared mailbox.
  store.setGrant(people[0]!.id, people[2]!.id, {
    fullAccess: true,
    sendAs: true,
    sendOnBehalf: false,
  });
  const colleagues: Array<[string, string]> = people.map((p) => [p.displayName, p.mail]);
  for (const mailbox of mailboxes) {
    // The shared mailbox is a queue, not a person's mailbox: a fifth of the volume.
    const count = mailbox.user.canSignIn
      ? opts.messagesPerUser
      : Math.ceil(opts.messagesPerUser / 5);
    seedMailbox(store, mailbox, rnd, { ...opts, messagesPerUser: count }, colleagues);
  }
}

function seedMailbox(
  store: MailStore,
  mailbox: Mailbox,
  rnd: Prng,
  opts: SeedOptions,
  colleagues: Array<[string, string]>,
): void {
  const wk = (name: string): Folder => mailbox.wellKnown.get(name)!;
  const inbox = wk('inbox');
  const projects = store.addFolder(mailbox, inbox, 'Projects');
  const y2026 = store.addFolder(mailbox, projects, '2026');
  const y2025 = store.addFolder(mailbox, projects, '2025');
  const receipts = store.addFolder(mailbox, inbox, 'Receipts/Invoices');
  const newsletters = store.addFolder(mailbox, inbox, 'Newsletters');
  const hidden = store.addFolder(mailbox, mailbox.msgFolderRoot, 'Sandbox Hidden', true);
  const archive2025 = store.addFolder(mailbox, wk('archive'), '2025');
  const me: Recipient = {
    emailAddress: { name: mailbox.user.displayName, address: mailbox.user.mail },
  };
  const senders = [...EXTERNAL_SENDERS, ...colleagues.filter(([, a]) => a !== mailbox.user.mail)];
  // Shared, never mutated in place: 100k+ seeded messages must not each allocate their recipients.
  const senderRecipients: Recipient[] = senders.map(([name, address]) => ({
    emailAddress: { name, address },
  }));
  const toMe = [me];
  const replyTo = new Map(senderRecipients.map((r) => [r, [r]]));

  // Weighted folder choice for received mail.
  const incoming: Array<[Folder, number]> = [
    [inbox, 55],
    [y2026, 6],
    [y2025, 4],
    [receipts, 5],
    [newsletters, 5],
    [wk('archive'), 5],
    [archive2025, 3],
    [wk('deleteditems'), 3],
    [wk('junkemail'), 2],
    [hidden, 1],
  ];
  const totalWeight = incoming.reduce((s, [, w]) => s + w, 0);
  const chooseFolder = (): Folder => {
    let r = rnd() * totalWeight;
    for (const [f, w] of incoming) {
      r -= w;
      if (r < 0) return f;
    }
    return inbox;
  };

  const count = opts.messagesPerUser;
  let created = 0;
  let n = 0;
  while (created < count) {
    n++;
    const from = pick(rnd, senderRecipients);
    const subject = pick(rnd, TOPICS).replace('{n}', String(1000 + Math.floor(rnd() * 9000)));
    const receivedMs = opts.nowMs - Math.floor(rnd() * 180 * DAY) - 60_000;
    const folder = chooseFolder();
    const paragraphs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () =>
      Math.floor(rnd() * SENTENCES.length),
    );
    const body = seedBody(paragraphs, rnd() < 0.85, mailbox.user.displayName.split(' ')[0] ?? '');
    const conversationId = structuredId(CONVERSATION_PREFIX, mailbox.user.id, n);
    const cc =
      rnd() < 0.2
        ? [{ emailAddress: { name: pick(rnd, senders)[0], address: pick(rnd, senders)[1] } }]
        : [];
    const m = newMessage(
      store,
      mailbox,
      folder,
      {
        receivedMs,
        sentMs: receivedMs - Math.floor(rnd() * 120_000),
        createdMs: receivedMs,
        subject,
        body,
        from,
        sender: from,
        toRecipients: toMe,
        ccRecipients: cc,
        isRead: folder === inbox ? rnd() < 0.6 : rnd() < 0.9,
        importance: rnd() < 0.1 ? 'high' : rnd() < 0.05 ? 'low' : 'normal',
        conversationId,
        inferenceClassification: rnd() < 0.8 ? 'focused' : 'other',
        flag: rnd() < 0.05 ? FLAGGED : NOT_FLAGGED,
        categories: rnd() < 0.1 ? BLUE : [],
      },
      false,
    );
    created++;
    if (rnd() < 0.12) addSeedAttachment(m, rnd, n, mailbox.user.id);
    // A third of the conversations get a reply from the mailbox owner, saved in Sent Items.
    if (created < count && rnd() < 0.3) {
      const replyMs = receivedMs + Math.floor(rnd() * 2 * DAY) + 60_000;
      if (replyMs < opts.nowMs) {
        newMessage(
          store,
          mailbox,
          wk('sentitems'),
          {
            receivedMs: replyMs,
            sentMs: replyMs,
            createdMs: replyMs,
            subject: `RE: ${subject}`,
            body: { contentType: 'html', content: wrapHtml(`<p>${pick(rnd, SENTENCES)}</p>`) },
            from: me,
            sender: me,
            toRecipients: replyTo.get(from)!,
            isRead: true,
            conversationId,
          },
          false,
        );
        created++;
      }
    }
    if (created < count && rnd() < 0.02) {
      const draftMs = opts.nowMs - Math.floor(rnd() * 10 * DAY);
      newMessage(
        store,
        mailbox,
        wk('drafts'),
        {
          receivedMs: draftMs,
          sentMs: null,
          createdMs: draftMs,
          subject: `Draft: ${subject}`,
          body: { contentType: 'html', content: wrapHtml('<p>Work in progress</p>') },
          toRecipients: [from],
          isRead: true,
          isDraft: true,
        },
        false,
      );
      created++;
    }
  }
  store.rebuildIndexes(mailbox);
}

function addSeedAttachment(m: StoredMessage, rnd: Prng, n: number, mailboxGuid: string): void {
  const kinds: Array<[string, string]> = [
    ['report.pdf', 'application/pdf'],
    ['photo.jpg', 'image/jpeg'],
    ['notes.txt', 'text/plain'],
    ['budget.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ];
  const [name, contentType] = pick(rnd, kinds);
  const size = 1024 + Math.floor(rnd() * 6 * 1024);
  const bytes = Buffer.alloc(size, `sandbox attachment ${n} `);
  m.attachments = [
    {
      id: structuredId(ATTACHMENT_PREFIX, mailboxGuid, m.key, 0),
      kind: 'file',
      name,
      contentType,
      isInline: false,
      contentId: null,
      lastModifiedMs: m.receivedMs,
      bytes,
    },
  ];
}
