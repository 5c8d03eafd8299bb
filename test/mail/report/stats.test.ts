import { describe, expect, it } from 'vitest';

import { periodBefore } from '../../../src/mail/report/period';
import { computeFigures, median, percentile } from '../../../src/mail/report/stats';
import { DEFINITION, EXPECTED, RUN_AT, scenarioSnapshot } from '../../support/report-scenario';

const period = periodBefore(RUN_AT, 7, 'UTC');
const figures = computeFigures(scenarioSnapshot(), { definition: DEFINITION, period, now: RUN_AT });

describe('report figures', () => {
  it('counts received and sent mail per day, leaving out mail outside the period and our own reports', () => {
    expect(figures.totals).toEqual({
      received: EXPECTED.received,
      sent: EXPECTED.sent,
      unread: EXPECTED.unread,
      conversations: EXPECTED.conversations,
    });
    expect(figures.perDay).toEqual(EXPECTED.perDay);
    expect(figures.rows.map((r) => r.id)).not.toContain('r7');
    expect(figures.rows.map((r) => r.id)).not.toContain('s6');
    expect(figures.rows.map((r) => r.id)).not.toContain('s7');
    expect(figures.rows).toHaveLength(EXPECTED.received + EXPECTED.sent);
  });

  it('ranks senders and domains, ties by address', () => {
    expect(figures.topSenders.map((s) => [s.key, s.count])).toEqual(EXPECTED.topSenders);
    expect(figures.topDomains.map((s) => [s.key, s.count])).toEqual(EXPECTED.topDomains);
    expect(figures.topSenders[0]!.label).toBe('Alice Fenwick');
  });

  it('finds busiest hours in the time zone', () => {
    const expected = Array.from({ length: 24 }, (_v, hour) => EXPECTED.perHour[hour] ?? 0);
    expect(figures.perHour).toEqual(expected);
  });

  it('measures first response per conversation, including replies after the period', () => {
    expect(figures.firstResponse).toEqual(EXPECTED.firstResponse);
    const opener = figures.rows.find((r) => r.id === 'r5')!;
    expect(opener.firstResponseMs).toBe(63 * 3_600_000);
    // r4 is a follow-up in A, not its opener.
    expect(figures.rows.find((r) => r.id === 'r4')!.firstResponseMs).toBeNull();
  });

  it('lists conversations whose latest message is inbound and older than the threshold', () => {
    expect(
      figures.awaiting.map((a) => ({
        conversation: a.conversationId,
        since: new Date(a.waitingSince).toISOString().replace('.000Z', 'Z'),
        unanswered: a.unansweredCount,
      })),
    ).toEqual(EXPECTED.awaiting);
    expect(figures.awaiting[0]!.subject).toBe('RE: Broken link');
    expect(figures.rows.filter((r) => r.awaitingReply).map((r) => r.id)).toEqual(['r8', 'r10']);
  });

  it('applies the awaiting threshold strictly', () => {
    const since = Date.parse('2026-05-02T08:00:00Z'); // C's wait starts here
    const at = (hours: number) =>
      computeFigures(scenarioSnapshot(), {
        definition: { ...DEFINITION, awaitingReplyHours: hours },
        period,
        now: RUN_AT,
      }).awaiting.map((a) => a.conversationId);
    const waitedHours = (RUN_AT - since) / 3_600_000;
    expect(at(waitedHours)).not.toContain('C');
    expect(at(waitedHours - 1)).toContain('C');
  });

  it('uses local days and hours of the definition time zone', () => {
    const tokyo = periodBefore(RUN_AT, 7, 'Asia/Tokyo'); // run at 17:00 local on 4 May
    const local = computeFigures(scenarioSnapshot(), {
      definition: { ...DEFINITION, timeZone: 'Asia/Tokyo' },
      period: tokyo,
      now: RUN_AT,
    });
    // Tokyo's week is 26 Apr 15:00Z – 3 May 15:00Z: r7 (26 Apr 23:00Z) is in, r6 (3 May 23:00Z) is out.
    expect(local.rows.map((r) => r.id)).toContain('r7');
    expect(local.rows.map((r) => r.id)).not.toContain('r6');
    expect(local.perHour[16]).toBe(2); // r1 07:30Z and r4 07:00Z are 16:xx in Tokyo
    expect(local.perDay[0]).toEqual({ day: '2026-04-27', received: 3, sent: 2 });
  });

  it('reports an empty period as empty', () => {
    const empty = computeFigures(
      { ...scenarioSnapshot(), received: [], sent: [] },
      { definition: DEFINITION, period, now: RUN_AT },
    );
    expect(empty.totals).toEqual({ received: 0, sent: 0, unread: 0, conversations: 0 });
    expect(empty.firstResponse).toEqual({
      answered: 0,
      unanswered: 0,
      medianMs: null,
      p90Ms: null,
    });
    expect(empty.perDay).toHaveLength(7);
    expect(empty.awaiting).toEqual([]);
  });

  it('computes median and nearest-rank p90', () => {
    expect(median([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([1, 3, 10])).toBe(3);
    expect(median([1, 3, 10, 20])).toBe(6.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
  });
});
