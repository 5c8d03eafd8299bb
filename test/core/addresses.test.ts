import { describe, expect, it } from 'vitest';

import { internalRangeOf } from '../../src/core/addresses';

describe('internal address ranges', () => {
  it('names each internal range, at both of its edges', () => {
    const cases: Array<[string, string]> = [
      ['0.0.0.0', 'unspecified'],
      ['0.255.255.255', 'unspecified'],
      ['10.0.0.0', 'private'],
      ['10.255.255.255', 'private'],
      ['100.64.0.0', 'shared (carrier-grade NAT)'],
      ['100.127.255.255', 'shared (carrier-grade NAT)'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.255', 'loopback'],
      ['169.254.169.254', 'link-local (cloud metadata)'],
      ['169.254.0.0', 'link-local (cloud metadata)'],
      ['172.16.0.0', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.0.0', 'private'],
      ['192.168.255.255', 'private'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['fc00::', 'unique-local'],
      ['fdff:ffff::1', 'unique-local'],
      ['fe80::1', 'link-local'],
      ['febf:ffff::1', 'link-local'],
      ['192.0.0.0', 'IETF protocol assignments'],
      ['192.0.0.255', 'IETF protocol assignments'],
      ['198.18.0.0', 'benchmarking'],
      ['198.19.255.255', 'benchmarking'],
      ['224.0.0.1', 'multicast'],
      ['239.255.255.255', 'multicast'],
      ['240.0.0.0', 'reserved (and broadcast)'],
      ['255.255.255.255', 'reserved (and broadcast)'],
      ['ff02::1', 'multicast'],
      ['64:ff9b::7f00:1', 'IPv4 translation (NAT64)'],
      ['64:ff9b::a9fe:a9fe', 'IPv4 translation (NAT64)'],
      ['64:ff9b:1::a00:1', 'IPv4 translation (local NAT64)'],
      ['2002:7f00:1::1', 'IPv4 translation (6to4)'],
      ['2002:ffff:ffff:ffff::', 'IPv4 translation (6to4)'],
    ];
    for (const [address, range] of cases) expect(internalRangeOf(address), address).toBe(range);
  });

  it('reads IPv4-mapped IPv6 as the IPv4 address it carries', () => {
    expect(internalRangeOf('::ffff:127.0.0.1')).toBe('loopback');
    expect(internalRangeOf('::ffff:7f00:1')).toBe('loopback');
    expect(internalRangeOf('[::ffff:a9fe:a9fe]')).toBe('link-local (cloud metadata)');
    expect(internalRangeOf('::ffff:10.1.2.3')).toBe('private');
    expect(internalRangeOf('::ffff:8.8.8.8')).toBeUndefined();
  });

  it('passes public addresses just outside each range, and names that are not addresses', () => {
    for (const address of [
      '1.0.0.0',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.167.255.255',
      '192.169.0.0',
      '192.0.1.0',
      '198.17.255.255',
      '198.20.0.0',
      '223.255.255.255',
      '64:ff9a::1',
      '2001:ffff::1',
      '2003::1',
      'feff::1',
      '8.8.8.8',
      '::2',
      'fbff:ffff::1',
      'fec0::1',
      '2001:db8::1',
      'hooks.example',
      'localhost',
      '',
    ]) {
      expect(internalRangeOf(address), address).toBeUndefined();
    }
  });
});
