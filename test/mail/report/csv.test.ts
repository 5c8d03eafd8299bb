import { describe, expect, it } from 'vitest';

import { csvField, REPORT_CSV_COLUMNS, reportCsv, toCsv } from '../../../src/mail/report/csv';
import { periodBefore } from '../../../src/mail/report/period';
import { computeFigures } from '../../../src/mail/report/stats';
import { parseCsv } from '../../support/csv-parse';
import {
  DEFINITION,
  HOSTILE_SUBJECT,
  RUN_AT,
  scenarioSnapshot,
} from '../../support/report-scenario';

describe('report CSV', () => {
  it('quotes per RFC 4180 and ends every line with CRLF', () => {
    expect(
      toCsv(
        ['a', 'b'],
        [
          ['x,y', 'say "hi"'],
          ['multi\nline', null],
        ],
      ),
    ).toBe('a,b\r\n"x,y","say ""hi"""\r\n"multi\nline",\r\n');
  });

  it('defuses cells a spreadsheet would run as a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvField(`${start}1+1`).replace(/^"/, '')).toMatch(/^'/);
    }
    expect(csvField('=SUM(A1:A2)')).toBe("'=SUM(A1:A2)");
    expect(csvField('a=b')).toBe('a=b');
    // Numbers are data: a negative number stays a number.
    expect(csvField(-5)).toBe('-5');
    expect(csvField(true)).toBe('true');
  });

  it('has one row per message of the period, readable back to the same values', () => {
    const period = periodBefore(RUN_AT, 7, 'UTC');
    const figures = computeFigures(scenarioSnapshot(), {
      definition: DEFINITION,
      period,
      now: RUN_AT,
    });
    const csv = reportCsv(figures);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(csv.slice(1));
    expect(header).toEqual([...REPORT_CSV_COLUMNS]);
    expect(rows).toHaveLength(14);
    const byId = new Map(
      rows.map((r) => [r[13], Object.fromEntries(header!.map((h, i) => [h, r[i]]))]),
    );
    expect(byId.get('r3')).toMatchObject({
      direction: 'received',
      folder: 'Inbox',
      dateTimeUtc: '2026-04-28T12:00:00.000Z',
      localDateTime: '2026-04-28 12:00',
      fromName: 'Carol Diaz',
      fromAddress: 'carol@northwind.test',
      fromDomain: 'northwind.test',
      to: 'me@contoso.test',
      subject: `'${HOSTILE_SUBJECT}`,
      conversationId: 'C',
      isRead: 'true',
      firstResponseMinutes: '2880',
      awaitingReply: 'false',
    });
    expect(byId.get('r5')!.firstResponseMinutes).toBe('3780');
    expect(byId.get('r8')!.awaitingReply).toBe('true');
    expect(byId.get('s5')).toMatchObject({ direction: 'sent', to: 'partner@example.org' });
    // Chronological.
    const times = rows.map((r) => r[2]!);
    expect([...times].sort()).toEqual(times);
  });
});
