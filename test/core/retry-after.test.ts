import { describe, expect, it } from 'vitest';

import { retryAfterMs } from '../../src/core/retry-after';

const headers = (value?: string) =>
  new Headers(value === undefined ? {} : { 'Retry-After': value });

describe('Retry-After', () => {
  it.each([
    ['2', 2000],
    ['0.5', 500],
    ['0', 0],
    ['-3', 0],
  ])('reads %s seconds as %i ms', (value, ms) => {
    expect(retryAfterMs(headers(value))).toBe(ms);
  });

  it('reads an HTTP date as the time until then, never negative', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    const wait = retryAfterMs(headers(inTenSeconds))!;
    expect(wait).toBeGreaterThan(8_000);
    expect(wait).toBeLessThanOrEqual(10_000);
    expect(retryAfterMs(headers('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(0);
  });

  it('is undefined when absent or unreadable, and reads the Azure SDK header shape', () => {
    expect(retryAfterMs(headers())).toBeUndefined();
    expect(retryAfterMs(headers('soon'))).toBeUndefined();
    expect(retryAfterMs({ get: () => undefined })).toBeUndefined();
    expect(retryAfterMs({ get: (name) => (name === 'retry-after' ? '3' : undefined) })).toBe(3000);
  });
});
