import { describe, expect, it } from 'vitest';

import { createLogger, redact, registerSecretForRedaction } from '../../src/http/logger';

describe('redacting logger', () => {
  it.each([
    ['Authorization: Bearer abc.def-ghi', 'Bearer abc.def-ghi'],
    [
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl here',
      'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
    ],
    ['grant_type=refresh_token&refresh_token=0.AAA-secret&client_secret=s3cr3t', '0.AAA-secret'],
    ['{"refreshToken":"0.AAA-secret","x":1}', '0.AAA-secret'],
    ['https://up.example/upload?authtoken=opaque-token-123', 'opaque-token-123'],
  ])('scrubs %s', (input, secret) => {
    expect(redact(input)).not.toContain(secret);
  });

  it('scrubs sensitive fields by name at any depth and keeps the rest', () => {
    const lines: string[] = [];
    const log = createLogger((_level, line) => lines.push(line), { requestId: 'r-1' });
    log.info('refreshing', {
      credential: { refreshToken: 'rt-value', id: 'c1' },
      headers: { authorization: 'x', accept: 'json' },
    });
    expect(lines[0]).toContain('"requestId":"r-1"');
    expect(lines[0]).toContain('"id":"c1"');
    expect(lines[0]).toContain('"accept":"json"');
    expect(lines[0]).not.toContain('rt-value');
    expect(lines[0]).toContain('"authorization":"[redacted]"');
  });

  it('scrubs registered literal secrets wherever they appear', () => {
    registerSecretForRedaction('client-secret-literal-value');
    expect(redact('failed with client-secret-literal-value in it')).toBe(
      'failed with [redacted] in it',
    );
  });

  it('logs errors by name and message without their stack', () => {
    const lines: string[] = [];
    const log = createLogger((_level, line) => lines.push(line));
    log.error('boom', { error: new Error('with refresh_token=abc') });
    expect(lines[0]).toContain('"name":"Error"');
    expect(lines[0]).not.toContain('abc');
    expect(lines[0]).not.toContain('at ');
  });
});
