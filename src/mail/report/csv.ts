import { localDateTime } from './period';
import { type ReportFigures } from './stats';

export type CsvCell = string | number | boolean | null;

/** Spreadsheets run a cell starting with these as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One RFC 4180 field. Text that a spreadsheet would evaluate gets a leading `'`; numbers are
 * written as numbers (a negative count is data, not a formula).
 */
export function csvField(value: CsvCell): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180: CRLF line breaks, a header line, every line ending in CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((row) => row.map(csvField).join(',') + '\r\n').join('');
}

export const REPORT_CSV_COLUMNS = [
  'direction',
  'folder',
  'dateTimeUtc',
  'localDateTime',
  'fromName',
  'fromAddress',
  'fromDomain',
  'to',
  'subject',
  'conversationId',
  'isRead',
  'firstResponseMinutes',
  'awaitingReply',
  'messageId',
] as const;

/** The period's messages, one row each; a UTF-8 BOM lets Excel detect the encoding. */
export function reportCsv(figures: ReportFigures): string {
  const tz = figures.period.timeZone;
  const rows = figures.rows.map((r): CsvCell[] => {
    const address = r.from?.address ?? '';
    return [
      r.direction,
      r.folder,
      new Date(r.at).toISOString(),
      localDateTime(r.at, tz),
      r.from?.name ?? '',
      address,
      address.includes('@') ? address.slice(address.lastIndexOf('@') + 1).toLowerCase() : '',
      r.to.map((t) => t.address).join('; '),
      r.subject,
      r.conversationId,
      r.isRead,
      r.firstResponseMs === null ? null : Math.round(r.firstResponseMs / 6_000) / 10,
      r.awaitingReply,
      r.id,
    ];
  });
  return '\uFEFF' + toCsv(REPORT_CSV_COLUMNS, rows);
}
