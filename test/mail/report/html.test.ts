import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';

import { escapeHtml, formatDuration, renderReportHtml } from '../../../src/mail/report/html';
import { periodBefore } from '../../../src/mail/report/period';
import { computeFigures } from '../../../src/mail/report/stats';
import { DEFINITION, HOSTILE_NAME, RUN_AT, scenarioSnapshot } from '../../support/report-scenario';

const SAMPLE = path.resolve(__dirname, '../../../docs/report-sample.html');
const period = periodBefore(RUN_AT, 7, 'UTC');
const figures = computeFigures(scenarioSnapshot(), { definition: DEFINITION, period, now: RUN_AT });
const html = renderReportHtml(figures, { csvName: 'weekly-support-2026-04-27_2026-05-03.csv' });

/** Visible text, tags dropped and entities decoded, for asserting what a reader sees. */
function text(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('report HTML', () => {
  it('uses only what Outlook renders: no script, style block, class, image or external URL', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sclass=/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).toMatch(/^<!doctype html>/i);
  });

  it('escapes every mail-derived value', () => {
    expect(html).not.toContain(HOSTILE_NAME);
    expect(html).toContain(escapeHtml(HOSTILE_NAME));
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
    const hostile = renderReportHtml(
      { ...figures, title: '<b>t</b>', mailboxAddress: '"><svg onload=x>' },
      {},
    );
    expect(hostile).not.toContain('<b>t</b>');
    expect(hostile).not.toContain('<svg');
  });

  it('shows the figures, the period and the awaiting threads', () => {
    const visible = text(html);
    expect(visible).toContain('Support mailbox — weekly');
    expect(visible).toContain('me@contoso.test · 27 Apr 2026 – 3 May 2026 · UTC');
    expect(visible).toMatch(/Received 9 Sent 5 Unread now 4 Awaiting reply > 36 h 2/);
    expect(visible).toMatch(/Median first response 1 d 2 h 90% answered within 2 d 15 h/);
    expect(visible).toContain('4 of 6 conversations started in the period got a reply');
    expect(visible).toContain('Busiest: 07:00–08:00 (2), 08:00–09:00 (2), 09:00–10:00 (1)');
    expect(visible).toMatch(
      /RE: Broken link since 2026-04-30 14:00 · 2 messages Eve Park 3 d 18 h/,
    );
    expect(visible).toMatch(/Alice Fenwick alice@fabrikam\.test 3/);
    expect(visible).toMatch(/northwind\.test 5/);
    expect(visible).toContain('The attached weekly-support-2026-04-27_2026-05-03.csv');
  });

  it('draws bars as table cells sized by share of the maximum', () => {
    // Mon 27 Apr: 2 received of a maximum of 2 per day → a full-width bar.
    expect(html).toContain('<td width="100%" bgcolor="#2563eb"');
    // Sat 2 May: 0 sent → no coloured cell, only the empty remainder.
    expect(html).not.toMatch(/width="0%"/);
  });

  it('says so when the period had no mail', () => {
    const empty = renderReportHtml(
      computeFigures(
        { ...scenarioSnapshot(), received: [], sent: [] },
        { definition: DEFINITION, period, now: RUN_AT },
      ),
    );
    expect(text(empty)).toContain('No mail was received or sent in this period.');
    expect(empty).not.toContain('Busiest hours');
  });

  it('formats durations for people', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(200 * 60_000)).toBe('3 h 20 min');
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(formatDuration(52 * 3_600_000)).toBe('2 d 4 h');
    expect(formatDuration(48 * 3_600_000)).toBe('2 d');
  });

  it('matches docs/report-sample.html (UPDATE_REPORT_SAMPLE=1 rewrites it)', async () => {
    // Stored as Prettier formats it, so the repository's format check holds for the sample too.
    const options = await prettier.resolveConfig(SAMPLE);
    const formatted = await prettier.format(html, { ...options, parser: 'html' });
    if (process.env.UPDATE_REPORT_SAMPLE === '1') writeFileSync(SAMPLE, formatted);
    expect(existsSync(SAMPLE)).toBe(true);
    expect(readFileSync(SAMPLE, 'utf8')).toBe(formatted);
  });
});
