import { describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config';
import { ConfigError } from '../../../src/core/errors';

const local = { localBaseUrl: 'http://127.0.0.1:7071' };
const valid = {
  id: 'weekly',
  serviceId: 'crm',
  credentialId: 'c1',
  recipients: ['lead@contoso.test'],
  title: 'Weekly',
};

function startUp(reports: unknown, extra: Record<string, string> = {}): string {
  try {
    loadConfig(
      { REPORTS: typeof reports === 'string' ? reports : JSON.stringify(reports), ...extra },
      local,
    );
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '';
}

describe('REPORTS at start-up', () => {
  it('fills the defaults of a minimal entry', () => {
    const config = loadConfig({ REPORTS: JSON.stringify([valid]) }, local);
    expect(config.reports).toEqual([
      {
        ...valid,
        periodDays: 7,
        folders: ['inbox'],
        awaitingReplyHours: 24,
        timeZone: 'UTC',
      },
    ]);
    expect(config.reportSchedule).toBe('0 0 8 * * 1');
  });

  it('stops on JSON that is not an array of objects', () => {
    expect(startUp('[{"id": "weekly",]')).toMatch(/^Setting REPORTS: is not valid JSON/);
    expect(startUp({ reports: [] })).toBe(
      'Setting REPORTS: must be a JSON array of report definitions',
    );
    expect(startUp([42])).toContain('Setting REPORTS: entry 0 field (entry):');
  });

  it('names the entry and the field of every problem', () => {
    const message = startUp([
      valid,
      { ...valid, id: 'bad id!', periodDays: 0 },
      { ...valid, id: 'zone', timeZone: 'Mars/Olympus_Mons', folders: [] },
      { ...valid, id: 'extra', recipient: 'typo@contoso.test' },
      { serviceId: 'crm' },
    ]);
    // One start-up line for the setting, its problems separated by "; ".
    expect(message).not.toContain('\n');
    const problems = message.replace(/^Setting REPORTS: /, '').split('; ');
    expect(problems).toContain('entry 1 (bad id!) field id: must match [A-Za-z0-9_-]{1,64}');
    expect(message).toMatch(/entry 1 \(bad id!\) field periodDays: /);
    expect(problems).toContain(
      'entry 2 (zone) field timeZone: must be an IANA time zone such as Europe/Berlin',
    );
    expect(message).toMatch(/entry 2 \(zone\) field folders: /);
    expect(message).toMatch(/entry 3 \(extra\) field \(entry\): .*recipient/);
    for (const field of ['id', 'credentialId', 'recipients', 'title']) {
      expect(message).toMatch(new RegExp(`entry 4 field ${field}: `));
    }
    expect(message).not.toMatch(/entry 0/);
  });

  it('refuses the same report id twice in one service, allows it across services', () => {
    expect(startUp([valid, { ...valid }])).toBe(
      'Setting REPORTS: entry 1 (weekly): duplicate id weekly',
    );
    expect(startUp([valid, { ...valid, serviceId: 'billing' }])).toBe('');
  });

  it('checks recipients, the period and the awaiting threshold', () => {
    const message = startUp([
      { ...valid, recipients: [] },
      { ...valid, id: 'b', recipients: ['not-an-address'], periodDays: 93 },
      { ...valid, id: 'c', awaitingReplyHours: 0.5 },
    ]);
    expect(message).toContain('entry 0 (weekly) field recipients: needs at least one recipient');
    expect(message).toContain('entry 1 (b) field recipients.0: must be an email address');
    expect(message).toMatch(/entry 1 \(b\) field periodDays: /);
    expect(message).toMatch(/entry 2 \(c\) field awaitingReplyHours: /);
  });

  it('stops on a schedule that is not six-field NCRONTAB', () => {
    expect(startUp([valid], { REPORT_SCHEDULE: '0 8 * * 1' })).toBe(
      'Setting REPORT_SCHEDULE: must be a 6-field NCRONTAB expression',
    );
  });
});
