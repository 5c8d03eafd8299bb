import { NotFoundError } from '../core/errors';
import { type RecordRepository } from './record';
import {
  type CredentialMeta,
  type CredentialRecord,
  type CredentialView,
  grantedScopesOf,
} from './types';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** What a caller sees of a credential: never a token. */
export function viewOf(record: CredentialRecord): CredentialView {
  return {
    credentialId: record.credentialId,
    serviceId: record.serviceId,
    status: record.status,
    account: { address: record.account.address, displayName: record.account.displayName },
    scopes: grantedScopesOf(record),
    tokenExpiry: record.status === 'active' ? iso(record.accessTokenExpiresAt) : null,
    lastRefreshedAt: iso(record.lastRefreshedAt),
  };
}

/**
 * The view from a record's tags, which hold everything a view needs unless a value was too long
 * for a tag: then the record itself is read (and decrypted) for it.
 */
export async function viewFromMeta(
  repo: Pick<RecordRepository, 'read'>,
  meta: CredentialMeta,
  abortSignal?: AbortSignal,
): Promise<CredentialView> {
  if (meta.address !== undefined && meta.displayName !== undefined && meta.scopes !== undefined) {
    return {
      credentialId: meta.credentialId,
      serviceId: meta.serviceId,
      status: meta.status,
      account: { address: meta.address, displayName: meta.displayName },
      scopes: meta.scopes,
      tokenExpiry: meta.status === 'active' ? iso(meta.tokenExpiry) : null,
      lastRefreshedAt: iso(meta.lastRefreshedAt),
    };
  }
  const stored = await repo.read(meta, abortSignal ? { abortSignal } : {});
  if (!stored) throw new NotFoundError(`Credential ${meta.credentialId}`);
  return viewOf(stored.record);
}
