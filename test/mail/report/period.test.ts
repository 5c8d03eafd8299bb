import { describe, expect, it } from 'vitest';

import {
  formatPeriod,
  localDate,
  localHour,
  periodBefore,
  startOfLocalDay,
} from '../../../src/mail/report/period';

const iso = (ms: number) => new Date(ms).toISOString();

describe('report period', () => {
  it('is the whole local days before the run day', () => {
    const p = periodBefore(Date.parse('2026-05-04T08:00:00Z'), 7, 'UTC');
    expect(iso(p.start)).toBe('2026-04-27T00:00:00.000Z');
    expect(iso(p.end)).toBe('2026-05-04T00:00:00.000Z');
    expect(p.days).toEqual([
      '2026-04-27',
      '2026-04-28',
      '2026-04-29',
      '2026-04-30',
      '2026-05-01',
      '2026-05-02',
      '2026-05-03',
    ]);
    expect(formatPeriod(p)).toBe('27 Apr 2026 – 3 May 2026');
  });

  it('is the same period for any time of the run day (a retried run keeps its run id)', () => {
    const early = periodBefore(Date.parse('2026-05-04T00:00:01Z'), 7, 'UTC');
    const late = periodBefore(Date.parse('2026-05-04T23:59:59Z'), 7, 'UTC');
    expect(late).toEqual(early);
  });

  it('follows the zone across a daylight saving change', () => {
    // Berlin moves from +01:00 to +02:00 on Sunday 29 March 2026.
    const p = periodBefore(Date.parse('2026-03-30T08:00:00Z'), 7, 'Europe/Berlin');
    expect(iso(p.start)).toBe('2026-03-22T23:00:00.000Z');
    expect(iso(p.end)).toBe('2026-03-29T22:00:00.000Z');
    expect(p.days[0]).toBe('2026-03-23');
    expect(p.days[6]).toBe('2026-03-29');
    expect(localHour(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin')).toBe(3);
    expect(localHour(Date.parse('2026-03-28T01:30:00Z'), 'Europe/Berlin')).toBe(2);
  });

  it('crosses month and year boundaries, and zones behind UTC', () => {
    const p = periodBefore(Date.parse('2026-01-02T03:00:00Z'), 3, 'America/New_York');
    // 03:00Z on 2 Jan is 22:00 on 1 Jan in New York.
    expect(p.days).toEqual(['2025-12-29', '2025-12-30', '2025-12-31']);
    expect(iso(p.end)).toBe('2026-01-01T05:00:00.000Z');
    expect(formatPeriod(p)).toBe('29 Dec 2025 – 31 Dec 2025');
    expect(localDate(Date.parse('2026-01-01T04:59:59Z'), 'America/New_York')).toBe('2025-12-31');
  });

  it('finds local midnight on both sides of the date line', () => {
    expect(iso(startOfLocalDay(2026, 5, 4, 'Pacific/Kiritimati'))).toBe('2026-05-03T10:00:00.000Z');
    expect(iso(startOfLocalDay(2026, 5, 4, 'Pacific/Pago_Pago'))).toBe('2026-05-04T11:00:00.000Z');
    expect(formatPeriod(periodBefore(Date.parse('2026-05-04T08:00:00Z'), 1, 'UTC'))).toBe(
      '3 May 2026',
    );
  });
});
