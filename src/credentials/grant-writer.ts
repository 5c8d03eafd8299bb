import { ConflictError, isErrorOf, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { RecordUnreadableError } from './envelope';
import { type RecordRepository, type StoredRecord } from './record';
import { applyRotation } from './rotation';
import { type Account, type TokenEndpoint, type TokenResult } from './token-endpoint';
import { type TokenManager } from './token-manager';
import { type CredentialKey, type CredentialRecord, type CredentialView } from './types';
import { viewOf } from './views';

export interface ImportResult {
  view: CredentialView;
  created: boolean;
}

/** A grant the identity platform just gave (an import's refresh or a connect's code), to store. */
export interface Grant {
  key: CredentialKey;
  tokens: TokenResult;
  /** The scopes asked for (kept beside the granted ones). */
  scopes: readonly string[];
  /** Kept when the response carries no new refresh token (an import's own). */
  fallbackRefreshToken?: string | undefined;
  /** The mailbox an import names (a shared mailbox the account may open). */
  mailbox?: string | undefined;
  /** The account already read for this grant (connect); otherwise `GET /me` asks. */
  signedIn?: Account | undefined;
}

export interface GrantWriter {
  /** The current record, refusing (ConflictError) one that cannot be decrypted. */
  existing(key: CredentialKey, abortSignal?: AbortSignal): Promise<StoredRecord | undefined>;
  /**
   * Stores the grant as the credential's record, replacing (and disabling the version of) any
   * previous one, and drops what the token manager cached for it.
   */
  write(
    grant: Grant,
    options?: { abortSignal?: AbortSignal | undefined },
  ): Promise<ImportResult & { address: string }>;
}

export interface GrantWriterOptions {
  repo: Pick<RecordRepository, 'read' | 'write' | 'disableVersion'>;
  tokens: Pick<TokenManager, 'forget'>;
  endpoint: () => Pick<TokenEndpoint, 'clientId' | 'tenantId' | 'me'>;
  log: Logger;
}

export function createGrantWriter(options: GrantWriterOptions): GrantWriter {
  const { repo, tokens, log } = options;
  const signalOf = (abortSignal: AbortSignal | undefined) => (abortSignal ? { abortSignal } : {});

  async function existing(key: CredentialKey, abortSignal?: AbortSignal) {
    try {
      return await repo.read(key, signalOf(abortSignal));
    } catch (error) {
      if (!isErrorOf(error, RecordUnreadableError)) throw error;
      log.error('refusing to overwrite a credential record that cannot be decrypted', {
        ...key,
        reason: error.message,
      });
      throw new ConflictError(
        'conflict',
        `The stored record of credential ${key.credentialId} cannot be decrypted and is kept for investigation; DELETE it before storing a new one.`,
      );
    }
  }

  return {
    existing,
    async write(grant, { abortSignal } = {}) {
      const { key, tokens: result } = grant;
      const endpoint = options.endpoint();
      const me = grant.signedIn ?? (await endpoint.me(result.accessToken, signalOf(abortSignal)));
      const account = { id: me.id, address: me.address, displayName: me.displayName };
      const previous = await existing(key, abortSignal);
      const refreshToken = result.refreshToken ?? grant.fallbackRefreshToken;
      if (!refreshToken) {
        throw new UpstreamError('graph_error', 'The identity platform returned no refresh token.');
      }
      const now = Date.now();
      const record: CredentialRecord = {
        serviceId: key.serviceId,
        credentialId: key.credentialId,
        clientId: endpoint.clientId,
        tenantId: endpoint.tenantId,
        scopes: [...grant.scopes],
        grantedScopes: result.grantedScopes.length > 0 ? result.grantedScopes : [...grant.scopes],
        account,
        ...(grant.mailbox ? { mailbox: grant.mailbox } : {}),
        refreshToken,
        accessToken: result.accessToken,
        accessTokenExpiresAt: result.expiresAt,
        status: 'active',
        createdAt: previous?.record.createdAt ?? now,
        rotatedAt: now,
        lastRefreshedAt: now,
      };
      applyRotation(record, result, now, log);
      await repo.write(record, signalOf(abortSignal));
      tokens.forget(key);
      if (previous) {
        await repo
          .disableVersion(key, previous.version)
          .catch((error: unknown) => log.warn('could not disable the replaced record', { error }));
      }
      log.info(previous ? 'credential replaced' : 'credential stored', { ...key });
      return { view: viewOf(record), created: !previous, address: account.address };
    },
  };
}
