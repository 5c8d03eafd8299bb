import { type ReportDefinition } from '../../config';
import { type Recipient } from '../send-types';
import { formatPeriod, localDate, localHour, type ReportPeriod } from './period';
import { type MailboxSnapshot, type ReportFolder, type ReportMessage } from './reader';
import { isOwnReport } from './subject';

const HOUR_MS = 60 * 60 * 1000;
const TOP_N = 10;

/** One message of the period with what the report derived for it (a CSV row). */
export interface ReportRow extends ReportMessage {
  /** For the message that opened a conversation in the period: time until our first reply. */
  firstResponseMs: number | null;
  /** For the message a still-unanswered conversation has been waiting on since. */
  awaitingReply: boolean;
}

export interface AwaitingThread {
  conversationId: string;
  subject: string;
  from: Recipient | null;
  /** The first inbound message after our last reply (or the first of the thread). */
  waitingSince: number;
  /** Inbound messages since then. */
  unansweredCount: number;
}

export interface Ranked {
  key: string;
  label: string;
  count: number;
}

export interface ReportFigures {
  reportId: string;
  title: string;
  mailboxAddress: string;
  folders: ReportFolder[];
  period: ReportPeriod;
  periodLabel: string;
  generatedAt: number;
  awaitingReplyHours: number;
  totals: {
    received: number;
    sent: number;
    /** Received in the period and still unread now. */
    unread: number;
    conversations: number;
  };
  perDay: Array<{ day: string; received: number; sent: number }>;
  /** Received messages per local hour 0–23. */
  perHour: number[];
  topSenders: Ranked[];
  topDomains: Ranked[];
  /** Oldest wait first. */
  awaiting: AwaitingThread[];
  firstResponse: {
    answered: number;
    unanswered: number;
    medianMs: number | null;
    p90Ms: number | null;
  };
  /** The period's messages, oldest first. */
  rows: ReportRow[];
  truncated: boolean;
}

/** Median of a sorted list: the middle value, or the mean of the two middle values. */
export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of a sorted list (p90 of 10 values is the 9th). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function rank(entries: Iterable<{ key: string; label: string }>): Ranked[] {
  const counts = new Map<string, Ranked>();
  for (const { key, label } of entries) {
    const entry = counts.get(key);
    if (entry) entry.count += 1;
    else counts.set(key, { key, label, count: 1 });
  }
  return [...counts.values()]
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, TOP_N);
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at >= 0 ? address.slice(at + 1).toLowerCase() : address.toLowerCase();
}

const chronological = (a: ReportMessage, b: ReportMessage) =>
  a.at - b.at || a.id.localeCompare(b.id);

export interface ComputeOptions {
  definition: Pick<
    ReportDefinition,
    'id' | 'title' | 'recipients' | 'awaitingReplyHours' | 'timeZone'
  >;
  period: ReportPeriod;
  now: number;
}

/**
 * The report's figures from a mailbox snapshot. Pure, so every figure is unit-testable.
 * Threads are conversations; "inbound" is received mail not from the mailbox itself, "ours" is
 * Sent Items (our own earlier reports excluded).
 */
export function computeFigures(snapshot: MailboxSnapshot, options: ComputeOptions): ReportFigures {
  const { definition, period, now } = options;
  const tz = period.timeZone;
  const self = snapshot.mailboxAddress.toLowerCase();
  const inPeriod = (m: ReportMessage) => m.at >= period.start && m.at < period.end;
  const received = snapshot.received.filter(inPeriod);
  const sentAll = snapshot.sent.filter((m) => !isOwnReport(m, definition));
  const sent = sentAll.filter(inPeriod);
  const isInbound = (m: ReportMessage) =>
    m.direction === 'received' && (m.from?.address.toLowerCase() ?? '') !== self;

  const rows: ReportRow[] = [...received, ...sent]
    .sort(chronological)
    .map((m) => ({ ...m, firstResponseMs: null, awaitingReply: false }));
  const rowById = new Map(rows.map((r) => [r.id, r]));

  // Conversations: received mail of the period plus every reply we sent since it began.
  const threads = new Map<string, ReportMessage[]>();
  for (const m of [...received.filter(isInbound), ...sentAll]) {
    const list = threads.get(m.conversationId);
    if (list) list.push(m);
    else threads.set(m.conversationId, [m]);
  }

  const responseTimes: number[] = [];
  let unanswered = 0;
  const awaiting: AwaitingThread[] = [];
  const thresholdMs = definition.awaitingReplyHours * HOUR_MS;
  for (const [conversationId, messages] of threads) {
    messages.sort(chronological);
    const opener = messages.find(isInbound);
    if (!opener) continue; // only our own mail: nobody is waiting for us
    const reply = messages.find((m) => m.direction === 'sent' && m.at > opener.at);
    if (reply) {
      responseTimes.push(reply.at - opener.at);
      rowById.get(opener.id)!.firstResponseMs = reply.at - opener.at;
    } else {
      unanswered += 1;
    }
    const last = messages[messages.length - 1]!;
    if (!isInbound(last)) continue;
    let lastOurs = messages.length - 1;
    while (lastOurs >= 0 && messages[lastOurs]!.direction !== 'sent') lastOurs -= 1;
    const waiting = messages.slice(lastOurs + 1);
    const first = waiting[0]!;
    if (now - first.at <= thresholdMs) continue;
    awaiting.push({
      conversationId,
      subject: last.subject,
      from: last.from,
      waitingSince: first.at,
      unansweredCount: waiting.length,
    });
    const row = rowById.get(first.id);
    if (row) row.awaitingReply = true;
  }
  awaiting.sort((a, b) => a.waitingSince - b.waitingSince);
  responseTimes.sort((a, b) => a - b);

  const perDay = new Map(period.days.map((day) => [day, { day, received: 0, sent: 0 }]));
  const perHour = Array.from({ length: 24 }, () => 0);
  for (const m of received) {
    const day = perDay.get(localDate(m.at, tz));
    if (day) day.received += 1;
    perHour[localHour(m.at, tz)]! += 1;
  }
  for (const m of sent) {
    const day = perDay.get(localDate(m.at, tz));
    if (day) day.sent += 1;
  }

  const senders = received
    .filter((m) => m.from)
    .map((m) => ({ address: m.from!.address, name: m.from!.name ?? m.from!.address }));

  return {
    reportId: definition.id,
    title: definition.title,
    mailboxAddress: snapshot.mailboxAddress,
    folders: snapshot.folders,
    period,
    periodLabel: formatPeriod(period),
    generatedAt: now,
    awaitingReplyHours: definition.awaitingReplyHours,
    totals: {
      received: received.length,
      sent: sent.length,
      unread: received.filter((m) => !m.isRead).length,
      conversations: new Set(rows.map((r) => r.conversationId)).size,
    },
    perDay: [...perDay.values()],
    perHour,
    topSenders: rank(senders.map((s) => ({ key: s.address.toLowerCase(), label: s.name }))),
    topDomains: rank(
      senders.map((s) => ({ key: domainOf(s.address), label: domainOf(s.address) })),
    ),
    awaiting,
    firstResponse: {
      answered: responseTimes.length,
      unanswered,
      medianMs: median(responseTimes),
      p90Ms: percentile(responseTimes, 90),
    },
    rows,
    truncated: snapshot.truncated,
  };
}
