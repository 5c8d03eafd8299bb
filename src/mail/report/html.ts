import { formatDay, localDateTime } from './period';
import { type Ranked, type ReportFigures } from './stats';

/**
 * The report as an email body that Outlook renders: tables for layout, inline styles and `bgcolor`
 * only (Outlook's Word engine ignores `<style>` classes, scripts and most CSS), charts as table
 * cells with widths and backgrounds, no images. Every value that came from mail is escaped.
 */

const FONT = "font-family:'Segoe UI',Helvetica,Arial,sans-serif;";
const INK = '#111827';
const MUTED = '#6b7280';
const RULE = '#e5e7eb';
const RECEIVED = '#2563eb';
const SENT = '#059669';
const WARN_BG = '#fef3c7';
const WARN_INK = '#92400e';
const MAX_AWAITING_ROWS = 25;

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const MINUTE_MS = 60_000;

/** `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  if (ms < MINUTE_MS) return `${Math.round(ms / 1000)} s`;
  const minutes = Math.round(ms / MINUTE_MS);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

const number = new Intl.NumberFormat('en-GB');

/** A horizontal bar: a coloured cell whose width is the share of the maximum. */
function bar(value: number, max: number, color: string): string {
  const pct = max > 0 ? Math.round((value / max) * 100) : 0;
  const cell = 'height:10px;line-height:10px;font-size:1px;mso-line-height-rule:exactly;';
  const filled =
    pct > 0
      ? `<td width="${pct}%" bgcolor="${color}" style="${cell}background:${color};">&nbsp;</td>`
      : '';
  const rest = pct < 100 ? `<td style="${cell}">&nbsp;</td>` : '';
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>${filled}${rest}</tr></table>`;
}

/** Light → dark blue by share of the busiest hour. */
function heat(value: number, max: number): string {
  if (value === 0 || max === 0) return '#f3f4f6';
  const t = value / max;
  const from = [219, 234, 254];
  const to = [30, 64, 175];
  const channel = (i: number) => Math.round(from[i]! + (to[i]! - from[i]!) * t);
  return `#${[0, 1, 2].map((i) => channel(i).toString(16).padStart(2, '0')).join('')}`;
}

function section(title: string, inner: string, note = ''): string {
  const noteHtml = note
    ? `<div style="${FONT}font-size:12px;color:${MUTED};padding-top:2px;">${note}</div>`
    : '';
  return (
    `<tr><td style="padding:20px 28px 0 28px;">` +
    `<div style="${FONT}font-size:15px;font-weight:600;color:${INK};">${escapeHtml(title)}</div>${noteHtml}` +
    `<div style="padding-top:10px;">${inner}</div></td></tr>`
  );
}

function kpi(label: string, value: string, color: string): string {
  return (
    `<td width="33%" valign="top" style="padding:10px 12px;border:1px solid ${RULE};">` +
    `<div style="${FONT}font-size:12px;color:${MUTED};">${escapeHtml(label)}</div>` +
    `<div style="${FONT}font-size:24px;font-weight:700;color:${color};padding-top:2px;">${escapeHtml(value)}</div></td>`
  );
}

function kpis(f: ReportFigures): string {
  const fr = f.firstResponse;
  const cells = [
    kpi('Received', number.format(f.totals.received), RECEIVED),
    kpi('Sent', number.format(f.totals.sent), SENT),
    kpi('Unread now', number.format(f.totals.unread), INK),
    kpi(
      `Awaiting reply > ${f.awaitingReplyHours} h`,
      number.format(f.awaiting.length),
      f.awaiting.length > 0 ? WARN_INK : INK,
    ),
    kpi('Median first response', fr.medianMs === null ? '–' : formatDuration(fr.medianMs), INK),
    kpi('90% answered within', fr.p90Ms === null ? '–' : formatDuration(fr.p90Ms), INK),
  ];
  return (
    `<tr><td style="padding:20px 28px 0 28px;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">` +
    `<tr>${cells.slice(0, 3).join('')}</tr><tr>${cells.slice(3).join('')}</tr></table></td></tr>`
  );
}

const cellText = `${FONT}font-size:13px;color:${INK};`;
const headText = `${FONT}font-size:12px;color:${MUTED};font-weight:600;`;

function perDay(f: ReportFigures): string {
  const max = Math.max(1, ...f.perDay.flatMap((d) => [d.received, d.sent]));
  const rows = f.perDay
    .map(
      (d) =>
        `<tr><td width="90" style="${cellText}padding:4px 8px 4px 0;white-space:nowrap;">${escapeHtml(formatDay(d.day))}</td>` +
        `<td style="padding:4px 0;">${bar(d.received, max, RECEIVED)}<div style="height:3px;line-height:3px;font-size:1px;">&nbsp;</div>${bar(d.sent, max, SENT)}</td>` +
        `<td width="90" align="right" style="${cellText}padding:4px 0 4px 8px;white-space:nowrap;">` +
        `<span style="color:${RECEIVED};">${d.received}</span> / <span style="color:${SENT};">${d.sent}</span></td></tr>`,
    )
    .join('');
  const legend =
    `<span style="color:${RECEIVED};">&#9632;</span> received &nbsp; ` +
    `<span style="color:${SENT};">&#9632;</span> sent`;
  return section(
    'Mail per day',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${rows}</table>`,
    legend,
  );
}

function perHour(f: ReportFigures): string {
  const max = Math.max(...f.perHour);
  const cells = f.perHour
    .map((count, hour) => {
      const color = heat(count, max);
      return `<td width="4%" height="28" align="center" bgcolor="${color}" title="${hour}:00 · ${count}" style="background:${color};border-right:1px solid #ffffff;${FONT}font-size:10px;color:${count / (max || 1) > 0.55 ? '#ffffff' : INK};">${count || '&nbsp;'}</td>`;
    })
    .join('');
  const labels = f.perHour
    .map(
      (_c, hour) =>
        `<td width="4%" align="center" style="${FONT}font-size:10px;color:${MUTED};padding-top:3px;">${hour % 3 === 0 ? String(hour).padStart(2, '0') : '&nbsp;'}</td>`,
    )
    .join('');
  const busiest = f.perHour
    .map((count, hour) => ({ count, hour }))
    .filter((h) => h.count > 0)
    .sort((a, b) => b.count - a.count || a.hour - b.hour)
    .slice(0, 3)
    .map(
      (h) =>
        `${String(h.hour).padStart(2, '0')}:00–${String((h.hour + 1) % 24).padStart(2, '0')}:00 (${h.count})`,
    )
    .join(', ');
  return section(
    'Busiest hours',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>${cells}</tr><tr>${labels}</tr></table>`,
    `Received mail by hour of day, ${escapeHtml(f.period.timeZone)}. Busiest: ${busiest}.`,
  );
}

function rankedTable(title: string, entries: Ranked[], showKey: boolean): string {
  const max = Math.max(1, ...entries.map((e) => e.count));
  const rows = entries
    .map((e) => {
      const label =
        showKey && e.label.toLowerCase() !== e.key
          ? `${escapeHtml(e.label)}<div style="font-size:11px;color:${MUTED};">${escapeHtml(e.key)}</div>`
          : escapeHtml(e.label);
      return (
        `<tr><td width="45%" style="${cellText}padding:4px 8px 4px 0;word-break:break-all;">${label}</td>` +
        `<td style="padding:4px 0;">${bar(e.count, max, RECEIVED)}</td>` +
        `<td width="40" align="right" style="${cellText}padding:4px 0 4px 8px;">${e.count}</td></tr>`
      );
    })
    .join('');
  return section(
    title,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${rows}</table>`,
  );
}

function awaiting(f: ReportFigures): string {
  if (f.awaiting.length === 0) {
    return section(
      'Awaiting reply',
      `<div style="${cellText}">No conversation has waited more than ${f.awaitingReplyHours} h for a reply.</div>`,
    );
  }
  const tz = f.period.timeZone;
  const head =
    `<tr><td style="${headText}padding:4px 8px 4px 0;border-bottom:1px solid ${RULE};">Subject</td>` +
    `<td style="${headText}padding:4px 8px;border-bottom:1px solid ${RULE};">From</td>` +
    `<td align="right" style="${headText}padding:4px 0 4px 8px;border-bottom:1px solid ${RULE};white-space:nowrap;">Waiting</td></tr>`;
  const rows = f.awaiting
    .slice(0, MAX_AWAITING_ROWS)
    .map((t) => {
      const from = t.from ? (t.from.name ?? t.from.address) : 'unknown sender';
      const more = t.unansweredCount > 1 ? ` · ${t.unansweredCount} messages` : '';
      return (
        `<tr><td style="${cellText}padding:5px 8px 5px 0;border-bottom:1px solid ${RULE};">${escapeHtml(t.subject || '(no subject)')}` +
        `<div style="font-size:11px;color:${MUTED};">since ${escapeHtml(localDateTime(t.waitingSince, tz))}${more}</div></td>` +
        `<td style="${cellText}padding:5px 8px;border-bottom:1px solid ${RULE};word-break:break-all;">${escapeHtml(from)}</td>` +
        `<td align="right" style="${cellText}padding:5px 0 5px 8px;border-bottom:1px solid ${RULE};white-space:nowrap;color:${WARN_INK};font-weight:600;">${escapeHtml(formatDuration(f.generatedAt - t.waitingSince))}</td></tr>`
      );
    })
    .join('');
  const rest = f.awaiting.length - MAX_AWAITING_ROWS;
  return section(
    'Awaiting reply',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">${head}${rows}</table>`,
    `Conversations whose latest message is from someone else and unanswered for more than ${f.awaitingReplyHours} h, oldest first.` +
      (rest > 0 ? ` ${rest} more are marked in the CSV (awaitingReply = true).` : ''),
  );
}

function firstResponse(f: ReportFigures): string {
  const fr = f.firstResponse;
  const total = fr.answered + fr.unanswered;
  const text =
    total === 0
      ? 'No conversation was started by someone else in this period.'
      : `${fr.answered} of ${total} conversations started in the period got a reply` +
        (fr.medianMs === null
          ? '.'
          : `: median ${formatDuration(fr.medianMs)}, 90% within ${formatDuration(fr.p90Ms!)}.`);
  return section(
    'First response',
    `<div style="${cellText}">${escapeHtml(text)}</div>`,
    'From the first received message of a conversation to our first reply in it (Sent Items).',
  );
}

function folders(f: ReportFigures): string {
  const rows = f.folders
    .map(
      (folder) =>
        `<tr><td style="${cellText}padding:3px 8px 3px 0;">${escapeHtml(folder.displayName)}</td>` +
        `<td align="right" style="${cellText}padding:3px 8px;">${number.format(folder.unreadItemCount)} unread</td>` +
        `<td align="right" style="${cellText}padding:3px 0 3px 8px;color:${MUTED};">${number.format(folder.totalItemCount)} in total</td></tr>`,
    )
    .join('');
  return section(
    'Folders now',
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${rows}</table>`,
  );
}

function banner(text: string): string {
  return (
    `<tr><td style="padding:20px 28px 0 28px;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>` +
    `<td bgcolor="${WARN_BG}" style="background:${WARN_BG};padding:12px 14px;${FONT}font-size:14px;color:${WARN_INK};">${escapeHtml(text)}</td>` +
    `</tr></table></td></tr>`
  );
}

export interface RenderOptions {
  /** Name of the attached CSV, mentioned in the footer; absent in a preview. */
  csvName?: string;
}

export function renderReportHtml(f: ReportFigures, options: RenderOptions = {}): string {
  const empty = f.totals.received === 0 && f.totals.sent === 0;
  const tz = f.period.timeZone;
  const preheader = empty
    ? 'No mail in this period.'
    : `${f.totals.received} received · ${f.totals.sent} sent · ${f.awaiting.length} awaiting reply`;
  const body = [
    `<tr><td bgcolor="${INK}" style="background:${INK};padding:22px 28px;">` +
      `<div style="${FONT}font-size:20px;font-weight:700;color:#ffffff;">${escapeHtml(f.title)}</div>` +
      `<div style="${FONT}font-size:13px;color:#d1d5db;padding-top:4px;">${escapeHtml(f.mailboxAddress)} · ${escapeHtml(f.periodLabel)} · ${escapeHtml(tz)}</div></td></tr>`,
    f.truncated
      ? banner(
          'This mailbox had more mail in the period than one report reads; the figures cover the newest messages only.',
        )
      : '',
    empty
      ? banner('No mail was received or sent in this period.')
      : [
          kpis(f),
          perDay(f),
          perHour(f),
          firstResponse(f),
          awaiting(f),
          rankedTable('Top senders', f.topSenders, true),
          rankedTable('Top sender domains', f.topDomains, false),
        ].join(''),
    folders(f),
    `<tr><td style="padding:24px 28px 22px 28px;"><div style="border-top:1px solid ${RULE};padding-top:12px;${FONT}font-size:11px;color:${MUTED};">` +
      `Report ${escapeHtml(f.reportId)}, generated ${escapeHtml(localDateTime(f.generatedAt, tz))} (${escapeHtml(tz)}).` +
      (options.csvName
        ? ` The attached ${escapeHtml(options.csvName)} has one row per message of the period.`
        : '') +
      `</div></td></tr>`,
  ].join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(f.title)}</title></head>` +
    `<body style="margin:0;padding:0;background:#f3f4f6;">` +
    `<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">${escapeHtml(preheader)}</div>` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f3f4f6" style="background:#f3f4f6;"><tr><td align="center" style="padding:24px 8px;">` +
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:640px;max-width:640px;background:#ffffff;border:1px solid ${RULE};">` +
    body +
    `</table></td></tr></table></body></html>`
  );
}
