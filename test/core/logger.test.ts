import { afterEach, describe, expect, it, vi } from 'vitest';

import { consoleSink, createLogger, redact } from '../../src/core/logger';

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

  it('scrubs the literal secrets it was created with, in its children too, and no other logger', () => {
    const secret = 'client-secret-literal-value';
    expect(redact(`failed with ${secret} in it`, [secret])).toBe('failed with [redacted] in it');
    const lines: string[] = [];
    const sink = (_level: string, line: string) => lines.push(line);
    const log = createLogger(sink, {}, { secrets: [secret, undefined, 'short'] });
    log.warn(`failed with ${secret}`, { detail: { text: `x ${secret} y` } });
    log.child({ requestId: 'r-2' }).error(secret);
    log.child({}, { secrets: ['another-secret-value'] }).info(`${secret} another-secret-value`);
    // Secrets belong to the logger, not the module: a logger created without them keeps the text.
    createLogger(sink).info(`plain ${secret}`);
    expect(lines.slice(0, 3).join('\n')).not.toContain(secret);
    expect(lines[2]).not.toContain('another-secret-value');
    expect(lines[1]).toContain('"requestId":"r-2"');
    expect(lines[3]).toBe(`plain ${secret}`);
  });

  it('logs errors by name and message without their stack', () => {
    const lines: string[] = [];
    const log = createLogger((_level, line) => lines.push(line));
    log.error('boom', { error: new Error('with refresh_token=abc') });
    expect(lines[0]).toContain('"name":"Error"');
    expect(lines[0]).not.toContain('abc');
    expect(lines[0]).not.toContain('at ');
  });

  describe('console sink', () => {
    afterEach(() => vi.restoreAllMocks());

    it('writes its minimum level and above (LOG_LEVEL), errors to stderr', () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const log = createLogger(consoleSink('warn'));
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      expect(warn.mock.calls.map(([line]) => String(line))).toEqual([
        expect.stringMatching(/ warn w$/),
      ]);
      expect(error.mock.calls.map(([line]) => String(line))).toEqual([
        expect.stringMatching(/ error e$/),
      ]);
      createLogger(consoleSink('debug')).debug('shown');
      expect(String(warn.mock.calls.at(-1)?.[0])).toMatch(/ debug shown$/);
    });
  });
});
