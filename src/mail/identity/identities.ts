import { type CredentialKey, keyString } from '../../credentials/types';
import { type Logger } from '../../core/logger';
import { type GraphFactory } from '../../graph/client';
import { readUserAddresses } from '../../graph/identities';

/**
 * Who a credential may send as: its primary address, the user's aliases (proxyAddresses) and the
 * shared mailbox it was configured for. Read from Graph once per credential and kept for a short
 * time (aliases change rarely; `refresh` reads them again at once).
 */

export interface SenderIdentities {
  primary: { address: string; name: string };
  /** Lower-cased, de-duplicated, the primary address left out. */
  aliases: Array<{ address: string }>;
  /** Shared mailboxes configured on the credential (Send As / Send on Behalf rights apply). */
  sendAs: Array<{ address: string }>;
}

export type IdentityKind = 'primary' | 'alias' | 'sendAs';

export interface IdentityOptions {
  /** Read Graph again instead of the cached answer. */
  refresh?: boolean;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export interface IdentityService {
  get(key: CredentialKey, options: IdentityOptions): Promise<SenderIdentities>;
  /** Drops the cached answer (the credential was deleted). */
  forget(key: CredentialKey): void;
}

/** What `address` is among `identities`, or undefined when the credential may not send as it. */
export function identityKind(
  identities: SenderIdentities,
  address: string,
): IdentityKind | undefined {
  const wanted = address.toLowerCase();
  if (identities.primary.address.toLowerCase() === wanted) return 'primary';
  if (identities.aliases.some((a) => a.address === wanted)) return 'alias';
  if (identities.sendAs.some((a) => a.address === wanted)) return 'sendAs';
  return undefined;
}

export interface IdentityServiceDependencies {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  /** How long an answer is kept (default 5 minutes). */
  ttlMs?: number;
  /** Credentials remembered at once; the oldest is forgotten first. */
  maxEntries?: number;
  now?: () => number;
}

export const IDENTITY_TTL_MS = 5 * 60_000;

export function createIdentityService(deps: IdentityServiceDependencies): IdentityService {
  const ttlMs = deps.ttlMs ?? IDENTITY_TTL_MS;
  const maxEntries = deps.maxEntries ?? 1000;
  const now = deps.now ?? Date.now;
  // One read in flight per credential however many sends ask together.
  const cache = new Map<string, { at: number; value: Promise<SenderIdentities> }>();

  async function read(key: CredentialKey, options: IdentityOptions): Promise<SenderIdentities> {
    const mailbox = await deps.graph.forCredential(key, {
      abortSignal: options.abortSignal,
      log: options.log,
    });
    const user = await readUserAddresses(mailbox.client, mailbox.access.account.address);
    const primary = user.address.toLowerCase();
    const sendAs = mailbox.access.mailbox?.toLowerCase();
    const aliases = [...new Set(user.aliases.map((a) => a.toLowerCase()))].filter(
      (a) => a !== primary && a !== sendAs,
    );
    return {
      primary: { address: user.address, name: user.displayName },
      aliases: aliases.map((address) => ({ address })),
      sendAs: sendAs === undefined || sendAs === primary ? [] : [{ address: sendAs }],
    };
  }

  return {
    get(key, options) {
      const id = keyString(key);
      const hit = cache.get(id);
      if (hit && !options.refresh && now() - hit.at < ttlMs) return hit.value;
      const value = read(key, options);
      cache.delete(id);
      cache.set(id, { at: now(), value });
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
      value.catch(() => {
        if (cache.get(id)?.value === value) cache.delete(id);
      });
      return value;
    },
    forget(key) {
      cache.delete(keyString(key));
    },
  };
}
