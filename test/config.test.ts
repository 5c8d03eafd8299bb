import { describe, expect, it } from 'vitest';

import { hashApiKey, loadConfig } from '../src/config';
import { ConfigError } from '../src/core/errors';

const local = { localBaseUrl: 'http://127.0.0.1:7071' };

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, local);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('config', () => {
  it('has working defaults and is frozen', () => {
    const config = loadConfig({}, local);
    expect(config).toMatchObject({
      graphBaseUrl: 'https://graph.microsoft.com',
      authorityHost: 'https://login.microsoftonline.com',
      tenantId: 'organizations',
      sendRatePerMinute: 30,
      dailyRecipientLimit: 10_000,
      maxMessageSizeBytes: 35_000_000,
      reportSchedule: '0 0 8 * * 1',
      reports: [],
      publicBaseUrl: 'http://127.0.0.1:7071',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.scopes)).toBe(true);
  });

  it('accepts http only for loopback hosts', () => {
    expect(loadConfig({ GRAPH_BASE_URL: 'http://127.0.0.1:5000/' }, local).graphBaseUrl).toBe(
      'http://127.0.0.1:5000',
    );
    expect(loadConfig({ AUTHORITY_HOST: 'http://[::1]:5000' }, local).authorityHost).toBe(
      'http://[::1]:5000',
    );
    expect(problems({ GRAPH_BASE_URL: 'http://graph.example.com' })).toEqual([
      'Setting GRAPH_BASE_URL: must be https:// (http:// only for loopback hosts)',
    ]);
  });

  it('names every bad setting on its own line', () => {
    const lines = problems({
      MAX_MESSAGE_SIZE_MB: '151',
      API_KEYS: 'crm=nothex',
      CLIENT_ID: 'not-a-guid',
    });
    expect(lines).toHaveLength(3);
    expect(lines.join('\n')).toMatch(/MAX_MESSAGE_SIZE_MB/);
    expect(lines.join('\n')).toMatch(/API_KEYS: entry 1 must be serviceId=/);
    expect(lines.join('\n')).toMatch(/CLIENT_ID: must be a GUID/);
  });

  it('gives one line per setting, however many problems it has', () => {
    const lines = problems({ REPORTS: JSON.stringify([{ id: 'a' }]) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^Setting REPORTS: entry 0 \(a\) field serviceId: .*; entry 0 \(a\) field credentialId/,
    );
  });

  it('parses API keys as sha256 hashes per service', () => {
    const hash = hashApiKey('k');
    expect(
      loadConfig({ API_KEYS: `crm=${hash}, billing=${hashApiKey('b')}` }, local).apiKeys.get(hash),
    ).toBe('crm');
  });

  it('needs a client secret or certificate with a client id, and Key Vault in production', () => {
    expect(problems({ CLIENT_ID: '11111111-2222-3333-4444-555555555555' })).toEqual([
      'Setting CLIENT_SECRET: or CLIENT_CERTIFICATE is required when CLIENT_ID is set',
    ]);
    const withCertificate = loadConfig(
      { CLIENT_ID: '11111111-2222-3333-4444-555555555555', CLIENT_CERTIFICATE: 'pem' },
      local,
    );
    expect(withCertificate).toMatchObject({ clientCertificate: 'pem', clientSecret: undefined });
    expect(
      problems({ AZURE_FUNCTIONS_ENVIRONMENT: 'Production', PUBLIC_BASE_URL: 'https://x.example' }),
    ).toEqual([
      'Setting CLIENT_ID: is required (the Entra app registration)',
      'Setting KEY_VAULT_URL: is required in production (the local store is dev only)',
    ]);
  });

  it('stops on REPORTS naming the entry and the field', () => {
    expect(problems({ REPORTS: '{not json' })[0]).toMatch(/^Setting REPORTS: is not valid JSON/);
    const lines = problems({
      REPORTS: JSON.stringify([
        {
          id: 'weekly',
          serviceId: 'crm',
          credentialId: 'c1',
          recipients: ['a@x.com'],
          title: 'Weekly',
        },
        { id: 'support', serviceId: 'crm', recipients: ['nope'], title: 'Support' },
      ]),
    });
    expect(lines.join('\n')).toContain('entry 1 (support) field credentialId');
    expect(lines.join('\n')).toContain('entry 1 (support) field recipients.0');
  });

  it('reads identity-based storage settings', () => {
    const config = loadConfig(
      { AzureWebJobsStorage__accountName: 'stacc', AzureWebJobsStorage__clientId: 'cid' },
      local,
    );
    expect(config.storage).toEqual({
      kind: 'identity',
      blobUrl: 'https://stacc.blob.core.windows.net',
      queueUrl: 'https://stacc.queue.core.windows.net',
      tableUrl: 'https://stacc.table.core.windows.net',
      clientId: 'cid',
    });
  });
});
