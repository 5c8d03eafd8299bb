import { type GraphClient } from './client';

/**
 * The signed-in user's addresses as Graph keeps them. `proxyAddresses` is not among a user's
 * default properties: Graph returns it only when `$select` names it (FACTS §11), so the request
 * names every property it reads.
 */

export interface UserAddresses {
  address: string;
  displayName: string;
  /** `smtp:` entries of `proxyAddresses`, as Graph wrote them (the primary `SMTP:` left out). */
  aliases: string[];
}

interface GraphUser {
  displayName?: string | null;
  mail?: string | null;
  userPrincipalName?: string | null;
  proxyAddresses?: unknown;
}

/** At most this many proxy addresses are read (Exchange allows about 400 per recipient). */
const MAX_PROXY_ADDRESSES = 1000;

/** `GET /me?$select=displayName,mail,userPrincipalName,proxyAddresses`. */
export async function readUserAddresses(
  client: GraphClient,
  fallbackAddress: string,
): Promise<UserAddresses> {
  const { body } = await client.get<GraphUser>('/me', {
    query: { $select: 'displayName,mail,userPrincipalName,proxyAddresses' },
  });
  const proxies = Array.isArray(body.proxyAddresses)
    ? body.proxyAddresses.slice(0, MAX_PROXY_ADDRESSES)
    : [];
  // `SMTP:` (upper case) marks the primary address, `smtp:` the aliases; X500:, SIP: and the
  // like are not mail addresses.
  const aliases = proxies
    .filter((p): p is string => typeof p === 'string' && p.startsWith('smtp:'))
    .map((p) => p.slice('smtp:'.length));
  const primaryProxy = proxies.find(
    (p): p is string => typeof p === 'string' && p.startsWith('SMTP:'),
  );
  return {
    address:
      body.mail ?? primaryProxy?.slice('SMTP:'.length) ?? body.userPrincipalName ?? fallbackAddress,
    displayName: body.displayName ?? '',
    aliases,
  };
}
