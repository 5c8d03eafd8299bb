import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { type LookupFunction } from 'node:net';

import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

import { internalRangeOf } from '../core/addresses';

/** A webhook whose host is (or resolves to) an internal address: no connection was made. */
export class WebhookAddressRefusedError extends Error {
  override readonly name = 'WebhookAddressRefusedError';
  readonly code = 'webhook_address_refused';
  constructor(host: string, address: string, range: string) {
    super(
      `webhook host ${host} is a ${range} address (${address}); deliveries reach public addresses only`,
    );
  }
}

export interface WebhookNetworkOptions {
  /**
   * Whether private, loopback and link-local addresses may be reached: local and dev only, the
   * same switch that lets a subscription take http to loopback.
   */
  allowInternal: boolean;
  /** Name resolution; `dns.lookup` unless a test stands in a resolver. */
  lookup?: LookupFunction;
}

type LookupCallback = Parameters<LookupFunction>[2];

/**
 * Resolves every address of the host and refuses them all when one is internal: the check runs
 * on the addresses the socket connects to, so a DNS answer that changes after the subscription
 * was validated (rebinding) cannot reach the host's network.
 */
function guardedLookup(resolve: LookupFunction): LookupFunction {
  return (hostname, options, callback: LookupCallback) => {
    resolve(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, '');
      const addresses = found as LookupAddress[];
      for (const { address } of addresses) {
        const range = internalRangeOf(address);
        if (range) return callback(new WebhookAddressRefusedError(hostname, address, range), '');
      }
      const first = addresses[0];
      if (!first) return callback(new Error(`no address for ${hostname}`), '');
      if (options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * The `fetch` deliveries use: an undici Agent whose connector refuses internal addresses at
 * connect time (address literals before connecting, names after resolving), and never follows
 * a redirect, so a public receiver cannot bounce a delivery to an internal one.
 */
export function createWebhookFetch(options: WebhookNetworkOptions): typeof fetch {
  const resolve = options.lookup ?? dnsLookup;
  const connector = buildConnector({
    lookup: options.allowInternal ? resolve : guardedLookup(resolve),
  });
  const dispatcher = new Agent({
    connect: (opts, callback) => {
      // A literal address skips name resolution, so it is checked here.
      const range = options.allowInternal ? undefined : internalRangeOf(opts.hostname);
      if (range)
        return callback(new WebhookAddressRefusedError(opts.hostname, opts.hostname, range), null);
      return connector(opts, callback);
    },
  });
  return ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      redirect: 'manual',
      dispatcher,
    })) as unknown as typeof fetch;
}

/** The refusal behind a failed webhook `fetch` (undici wraps it in a `TypeError` cause). */
export function addressRefusal(error: unknown): WebhookAddressRefusedError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as Error).cause, depth++) {
    if ((e as Error).name === 'WebhookAddressRefusedError') return e as WebhookAddressRefusedError;
  }
  return undefined;
}
