/**
 * Calendar arithmetic in a report's IANA time zone, with nothing but `Intl`: per-day and per-hour
 * figures, and the period itself, follow the recipients' clock rather than UTC.
 */

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday. */
  weekday: number;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function zonedParts(ms: number, timeZone: string): ZonedParts {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(ms)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
  };
}

/** Local wall-clock time minus UTC at instant `ms`. */
function offsetMs(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant local midnight begins `year-month-day` (month 1-based; day may overflow). */
export function startOfLocalDay(
  year: number,
  month: number,
  day: number,
  timeZone: string,
): number {
  const wall = Date.UTC(year, month - 1, day);
  const first = wall - offsetMs(wall, timeZone);
  // A second pass uses the offset in force at the answer, which differs across a DST change.
  return wall - offsetMs(first, timeZone);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` of the instant in the zone. */
export function localDate(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

export function localHour(ms: number, timeZone: string): number {
  return zonedParts(ms, timeZone).hour;
}

/** `YYYY-MM-DD HH:mm` in the zone, for CSV cells and tables. */
export function localDateTime(ms: number, timeZone: string): string {
  const p = zonedParts(ms, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`;
}

export interface ReportPeriod {
  /** Inclusive, epoch ms (local midnight of the first day). */
  start: number;
  /** Exclusive, epoch ms (local midnight after the last day). */
  end: number;
  /** The local calendar days covered, oldest first (`YYYY-MM-DD`). */
  days: string[];
  timeZone: string;
}

/**
 * The `periodDays` whole local days before the day `now` falls in. A run retried later the same
 * day computes the same period, which is what makes the run id per (definition, period) stable.
 */
export function periodBefore(now: number, periodDays: number, timeZone: string): ReportPeriod {
  const today = zonedParts(now, timeZone);
  const days: string[] = [];
  for (let offset = periodDays; offset >= 1; offset -= 1) {
    // Date.UTC normalises day underflow into the previous month or year.
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day - offset));
    days.push(`${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`);
  }
  return {
    start: startOfLocalDay(today.year, today.month, today.day - periodDays, timeZone),
    end: startOfLocalDay(today.year, today.month, today.day, timeZone),
    days,
    timeZone,
  };
}

const dayLabel = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
});
const dayLabelWithYear = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});

function dateOf(day: string): Date {
  return new Date(`${day}T00:00:00Z`);
}

/** `Mon 27 Apr` for a `YYYY-MM-DD` calendar day. */
export function formatDay(day: string): string {
  return dayLabel.format(dateOf(day));
}

/** `27 Apr 2026 – 3 May 2026`, or one date for a one-day period. */
export function formatPeriod(period: ReportPeriod): string {
  const first = period.days[0]!;
  const last = period.days[period.days.length - 1]!;
  const from = dayLabelWithYear.format(dateOf(first));
  return first === last ? from : `${from} – ${dayLabelWithYear.format(dateOf(last))}`;
}
