import { type ReportDefinition } from '../../src/config';
import { type MailboxSnapshot, type ReportMessage } from '../../src/mail/report/reader';

/**
 * One support week whose figures are worked out by hand (UTC, 7 days ending Mon 4 May 2026 00:00,
 * run at 08:00). Times are given in that week; `shiftMs` moves the whole scenario to another week
 * (whole days, so every local date and hour stays the same in UTC).
 */

export const SELF = 'me@contoso.test';
export const PERIOD_END = Date.parse('2026-05-04T00:00:00Z');
export const RUN_AT = Date.parse('2026-05-04T08:00:00Z');

export const DEFINITION: ReportDefinition = {
  id: 'weekly-support',
  serviceId: 'svc',
  credentialId: 'c1',
  recipients: ['megan@contoso.test'],
  periodDays: 7,
  folders: ['inbox'],
  title: 'Support mailbox — weekly',
  // 36 h keeps every "awaiting" decision away from the threshold wherever in the run day "now" is.
  awaitingReplyHours: 36,
  timeZone: 'UTC',
};

/** Hostile text: a spreadsheet formula, markup, quotes, a comma and a line break. */
export const HOSTILE_SUBJECT =
  '=HYPERLINK("http://evil.test","x"), <script>alert(1)</script>\nline';
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>';

export interface ScenarioMessage {
  key: string;
  conversation: string;
  direction: 'received' | 'sent';
  at: string;
  from: { name: string; address: string };
  to: string[];
  subject: string;
  isRead: boolean;
}

const alice = { name: 'Alice Fenwick', address: 'alice@fabrikam.test' };
const bob = { name: HOSTILE_NAME, address: 'bob@fabrikam.test' };
const carol = { name: 'Carol Diaz', address: 'carol@northwind.test' };
const dave = { name: 'Dave Ruiz', address: 'dave@northwind.test' };
const eve = { name: 'Eve Park', address: 'eve@northwind.test' };
const zed = { name: 'Zed Old', address: 'zed@fabrikam.test' };
const me = { name: 'Support', address: SELF };

const received = (
  key: string,
  conversation: string,
  at: string,
  from: ScenarioMessage['from'],
  subject: string,
  isRead: boolean,
): ScenarioMessage => ({
  key,
  conversation,
  direction: 'received',
  at,
  from,
  to: [SELF],
  subject,
  isRead,
});
const sent = (
  key: string,
  conversation: string,
  at: string,
  to: string[],
  subject: string,
): ScenarioMessage => ({
  key,
  conversation,
  direction: 'sent',
  at,
  from: me,
  to,
  subject,
  isRead: true,
});

export const MESSAGES: ScenarioMessage[] = [
  received('r1', 'A', '2026-04-27T07:30:00Z', alice, 'Login fails', true),
  received('r2', 'B', '2026-04-27T08:10:00Z', bob, 'Invoice question', false),
  received('r3', 'C', '2026-04-28T12:00:00Z', carol, HOSTILE_SUBJECT, true),
  received('r4', 'A', '2026-04-29T07:00:00Z', alice, 'RE: Login fails', true),
  received('r5', 'D', '2026-05-01T09:00:00Z', alice, 'Export to CSV', false),
  received('r6', 'E', '2026-05-03T23:00:00Z', dave, 'Password reset', false),
  // Before the period: Graph's filter leaves it out, and so does the report.
  received('r7', 'X', '2026-04-26T23:00:00Z', zed, 'Old thread', true),
  received('r8', 'G', '2026-04-30T14:00:00Z', eve, 'Broken link', true),
  received('r9', 'G', '2026-05-02T10:00:00Z', eve, 'RE: Broken link', false),
  received('r10', 'C', '2026-05-02T08:00:00Z', carol, 'RE: formula', true),
  sent('s1', 'A', '2026-04-27T08:30:00Z', [alice.address], 'RE: Login fails'),
  sent('s2', 'B', '2026-04-27T12:10:00Z', [bob.address], 'RE: Invoice question'),
  sent('s3', 'C', '2026-04-30T12:00:00Z', [carol.address], 'RE: formula'),
  sent('s4', 'A', '2026-04-29T07:15:00Z', [alice.address], 'RE: Login fails'),
  sent('s5', 'F', '2026-04-30T10:00:00Z', ['partner@example.org'], 'Newsletter draft'),
  // Last week's report, sent from this mailbox: never counted.
  sent(
    's6',
    'R',
    '2026-04-27T06:00:00Z',
    DEFINITION.recipients,
    `${DEFINITION.title} · 20 Apr 2026 – 26 Apr 2026`,
  ),
  // After the period, before the run: not sent in the period, but it answers D.
  sent('s7', 'D', '2026-05-04T00:00:00Z', [alice.address], 'RE: Export to CSV'),
];

const HOUR = 3_600_000;

/** The figures of `MESSAGES` when conversations are threaded as given. */
export const EXPECTED = {
  received: 9,
  sent: 5,
  unread: 4,
  conversations: 7,
  perDay: [
    { day: '2026-04-27', received: 2, sent: 2 },
    { day: '2026-04-28', received: 1, sent: 0 },
    { day: '2026-04-29', received: 1, sent: 1 },
    { day: '2026-04-30', received: 1, sent: 2 },
    { day: '2026-05-01', received: 1, sent: 0 },
    { day: '2026-05-02', received: 2, sent: 0 },
    { day: '2026-05-03', received: 1, sent: 0 },
  ],
  perHour: { 7: 2, 8: 2, 9: 1, 10: 1, 12: 1, 14: 1, 23: 1 } as Record<number, number>,
  topSenders: [
    ['alice@fabrikam.test', 3],
    ['carol@northwind.test', 2],
    ['eve@northwind.test', 2],
    ['bob@fabrikam.test', 1],
    ['dave@northwind.test', 1],
  ],
  topDomains: [
    ['northwind.test', 5],
    ['fabrikam.test', 4],
  ],
  // A 1 h, B 4 h, C 48 h, D 63 h (answered after the period).
  firstResponse: { answered: 4, unanswered: 2, medianMs: 26 * HOUR, p90Ms: 63 * HOUR },
  // G waits since r8, C since r10 (after our s3); E is too recent.
  awaiting: [
    { conversation: 'G', since: '2026-04-30T14:00:00Z', unanswered: 2 },
    { conversation: 'C', since: '2026-05-02T08:00:00Z', unanswered: 1 },
  ],
};

function toReportMessage(m: ScenarioMessage, shiftMs: number): ReportMessage {
  return {
    id: m.key,
    conversationId: m.conversation,
    subject: m.subject,
    from: m.from,
    to: m.to.map((address) => ({ address })),
    at: Date.parse(m.at) + shiftMs,
    isRead: m.isRead,
    direction: m.direction,
    folder: m.direction === 'sent' ? 'Sent Items' : 'Inbox',
  };
}

/** What the reader would return for the scenario (including r7, which only Graph filters out). */
export function scenarioSnapshot(shiftMs = 0): MailboxSnapshot {
  return {
    mailboxAddress: SELF,
    folders: [
      {
        requested: 'inbox',
        id: 'inbox-id',
        displayName: 'Inbox',
        unreadItemCount: 4,
        totalItemCount: 10,
      },
    ],
    received: MESSAGES.filter((m) => m.direction === 'received').map((m) =>
      toReportMessage(m, shiftMs),
    ),
    sent: MESSAGES.filter((m) => m.direction === 'sent').map((m) => toReportMessage(m, shiftMs)),
    truncated: false,
  };
}
