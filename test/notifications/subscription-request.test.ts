import { describe, expect, it } from 'vitest';

import {
  isInternalAddress,
  subscriptionRequestSchema,
} from '../../src/notifications/subscription-request';

const azure = subscriptionRequestSchema({ allowLoopbackHttp: false });
const local = subscriptionRequestSchema({ allowLoopbackHttp: true });
const request = (webhookUrl: string) => ({ events: ['created'], webhookUrl });
const problem = (schema: typeof azure, webhookUrl: string) => {
  const result = schema.safeParse(request(webhookUrl));
  return result.success ? undefined : result.error.issues.map((i) => i.message).join('; ');
};

describe('subscription request', () => {
  it('defaults the folder to inbox and refuses an unknown field or event', () => {
    expect(azure.parse(request('https://hooks.example/in'))).toEqual({
      folder: 'inbox',
      events: ['created'],
      webhookUrl: 'https://hooks.example/in',
    });
    expect(azure.safeParse({ ...request('https://hooks.example/in'), extra: 1 }).success).toBe(
      false,
    );
    expect(azure.safeParse({ events: ['opened'], webhookUrl: 'https://h.example' }).success).toBe(
      false,
    );
  });

  it('takes https only in Azure, and http to loopback only where allowed', () => {
    expect(problem(azure, 'https://hooks.example/in')).toBeUndefined();
    expect(problem(azure, 'http://hooks.example/in')).toBe('must be https');
    expect(problem(azure, 'http://127.0.0.1:9000/in')).toBe('must be https');
    expect(problem(local, 'http://127.0.0.1:9000/in')).toBeUndefined();
    expect(problem(local, 'http://[::1]:9000/in')).toBeUndefined();
    expect(problem(local, 'http://hooks.example/in')).toBe('must be https (http only to loopback)');
    expect(problem(azure, 'not a url')).toBe('must be an absolute URL');
    expect(problem(azure, 'https://user:pass@hooks.example/in')).toBe('must not carry credentials');
  });

  it('refuses private, loopback and link-local address literals in Azure', () => {
    for (const host of [
      '10.0.0.5',
      '127.0.0.1',
      '169.254.169.254', // the instance metadata endpoint
      '192.168.1.1',
      '172.16.0.1',
      '172.31.255.255',
      '0.0.0.0',
      '[::1]',
      '[fc00::1]',
      '[fd12::1]',
      '[fe80::1]',
      '[febf::1]',
      '100.64.0.1', // carrier-grade NAT
      '[::ffff:127.0.0.1]', // IPv4-mapped IPv6
      '[::ffff:a9fe:a9fe]',
      'localhost',
      'hooks.localhost',
    ]) {
      expect(problem(azure, `https://${host}/in`), host).toBe(
        'must not point at a private or loopback address',
      );
    }
    for (const host of ['172.32.0.1', '8.8.8.8', '[2001:db8::1]', 'hooks.example']) {
      expect(isInternalAddress(host), host).toBe(false);
    }
  });
});
