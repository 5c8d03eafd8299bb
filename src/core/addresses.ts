import { BlockList, isIP } from 'node:net';

/**
 * Address ranges a server-side request must not reach on a caller's behalf (SSRF): the host
 * itself, private networks, the cloud metadata endpoint. Names go into error messages.
 */
const RANGES: ReadonlyArray<readonly [name: string, network: string, prefix: number]> = [
  ['unspecified', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['shared (carrier-grade NAT)', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local (cloud metadata)', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['private', '192.168.0.0', 16],
  ['IETF protocol assignments', '192.0.0.0', 24],
  ['benchmarking', '198.18.0.0', 15],
  ['multicast', '224.0.0.0', 4],
  ['reserved (and broadcast)', '240.0.0.0', 4],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['unique-local', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['multicast', 'ff00::', 8],
  // IPv6 addresses that carry an IPv4 one a translator may forward to (a private one too):
  // refused whole, as no webhook receiver needs them (6to4 is deprecated, RFC 7526).
  ['IPv4 translation (NAT64)', '64:ff9b::', 96],
  ['IPv4 translation (local NAT64)', '64:ff9b:1::', 48],
  ['IPv4 translation (6to4)', '2002::', 16],
];

const LISTS = RANGES.map(([name, network, prefix]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, network.includes(':') ? 'ipv6' : 'ipv4');
  return { name, list };
});

/**
 * The internal range an IP address falls in (`loopback`, `private`, …), or undefined for a
 * public address or anything that is not an IP literal. IPv4-mapped IPv6 (`::ffff:127.0.0.1`,
 * `::ffff:7f00:1`) counts as the IPv4 address it carries.
 */
export function internalRangeOf(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(bare, type))?.name;
}
