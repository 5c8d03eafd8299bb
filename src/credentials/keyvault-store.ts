import { type TokenCredential } from '@azure/identity';
import { type SecretClientOptions } from '@azure/keyvault-secrets';

import { remainingMs, sleep } from '../core/abort';
import { azureSdk } from '../core/azure-sdk';
import { isErrorOf, NotFoundError, UpstreamError, ValidationError } from '../core/errors';
import { type Logger } from '../core/logger';
import { retryAfterMs } from '../core/retry-after';
import {
  MAX_SECRET_VALUE_BYTES,
  type SecretProperties,
  type SecretStore,
  type StoredSecret,
} from './store';

export interface KeyVaultStoreOptions {
  url: string;
  credential: TokenCredential;
  /** Extra client options (e.g. an `agent` trusting the local endpoint's certificate). */
  clientOptions?: SecretClientOptions;
  /** Total time one operation may spend retrying 429/5xx/network failures (default 15 s). */
  retryBudgetMs?: number;
  /** First backoff (default 1 s; doubles: 1 s, 2 s, 4 s …). */
  retryBaseMs?: number;
  log?: Logger;
}

interface RestLikeError {
  statusCode?: number;
  code?: string;
  name?: string;
  response?: { headers?: { get(name: string): string | undefined } };
}

const sig = (abortSignal: AbortSignal | undefined): { abortSignal?: AbortSignal } =>
  abortSignal ? { abortSignal } : {};
const statusOf = (error: unknown) => (error as RestLikeError)?.statusCode;
const codeOf = (error: unknown) => (error as RestLikeError)?.code;

function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return (error as RestLikeError)?.name !== 'AbortError';
  return status === 408 || status === 429 || status >= 500;
}

function retryAfterOf(error: unknown): number | undefined {
  const headers = (error as RestLikeError)?.response?.headers;
  return headers ? retryAfterMs(headers) : undefined;
}

/**
 * Credential records in Azure Key Vault through the real SecretClient. The SDK's own retry is off
 * so one budget governs retries: 429 (the vault's CREATE budget is 300 per 10 s, and every token
 * rotation is a CREATE), 5xx and network failures back off 1 s, 2 s, 4 s … honouring Retry-After.
 *
 * A deleted (soft-deleted) name cannot be reused until it is purged or recovered. Re-creating a
 * credential purges the deleted one: a disconnect must not leave old refresh tokens recoverable in
 * the vault's history. Where purge is not permitted (no purge right, purge protection) the deleted
 * secret is recovered instead and the new record written over it as a new version. Either way no
 * old version is readable: every version is disabled before a delete, and again after a recovery
 * (in case a delete was interrupted).
 */
export function createKeyVaultSecretStore(options: KeyVaultStoreOptions): SecretStore {
  const isLoopback = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:|\/|$)/i.test(
    options.url,
  );
  const client = new (azureSdk.keyVaultSecrets().SecretClient)(options.url, options.credential, {
    // A local Key-Vault-compatible endpoint cannot be vault.azure.net.
    ...(isLoopback ? { disableChallengeResourceVerification: true } : {}),
    ...(options.url.startsWith('http://') ? { allowInsecureConnection: true } : {}),
    ...options.clientOptions,
    retryOptions: { maxRetries: 0 },
  });
  const budgetMs = options.retryBudgetMs ?? 15_000;
  const baseMs = options.retryBaseMs ?? 1_000;

  async function withRetry<T>(
    what: string,
    op: () => Promise<T>,
    abortSignal?: AbortSignal,
  ): Promise<T> {
    const giveUpAt = Date.now() + Math.min(budgetMs, remainingMs(abortSignal));
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (error) {
        if (!isTransient(error) || abortSignal?.aborted) throw toStoreError(what, error);
        const wait = Math.max(retryAfterOf(error) ?? 0, baseMs * 2 ** attempt);
        if (Date.now() + wait > giveUpAt) throw toStoreError(what, error);
        options.log?.warn('key vault call failed; retrying', {
          what,
          status: statusOf(error),
          code: codeOf(error),
          waitMs: wait,
        });
        await sleep(wait, abortSignal);
      }
    }
  }

  function toStoreError(what: string, error: unknown): Error {
    if (isErrorOf(error, UpstreamError) || isErrorOf(error, ValidationError)) return error;
    const status = statusOf(error);
    if (status !== undefined && status < 500 && status !== 429 && status !== 408) {
      return error as Error; // a caller's logic error (404 handled by callers, 409 …)
    }
    const after = retryAfterOf(error);
    return new UpstreamError('store_unavailable', `Key Vault ${what} failed.`, {
      ...(status === undefined ? {} : { upstreamStatus: status }),
      ...(codeOf(error) ? { upstreamCode: codeOf(error)! } : {}),
      ...(after === undefined ? {} : { retryAfterMs: after }),
      cause: error,
    });
  }

  const properties = (p: {
    name: string;
    version?: string | undefined;
    tags?: Record<string, string> | undefined;
    contentType?: string | undefined;
    enabled?: boolean | undefined;
    updatedOn?: Date | undefined;
  }): SecretProperties => ({
    name: p.name,
    version: p.version ?? '',
    tags: p.tags ?? {},
    ...(p.contentType === undefined ? {} : { contentType: p.contentType }),
    enabled: p.enabled ?? true,
    ...(p.updatedOn === undefined ? {} : { updatedOn: p.updatedOn }),
  });

  async function getVersion(
    name: string,
    version: string | undefined,
    abortSignal?: AbortSignal,
  ): Promise<StoredSecret | undefined> {
    try {
      const secret = await withRetry(
        'read',
        () => client.getSecret(name, { ...(version ? { version } : {}), ...sig(abortSignal) }),
        abortSignal,
      );
      return { ...properties(secret.properties), value: secret.value ?? '' };
    } catch (error) {
      // 403 SecretDisabled: an old version we disabled on purpose.
      if (statusOf(error) === 404 || statusOf(error) === 403) return undefined;
      throw error;
    }
  }

  /** Makes a soft-deleted name usable again: purge, or recover where purge is refused. */
  async function freeDeletedName(name: string, abortSignal?: AbortSignal): Promise<void> {
    try {
      await withRetry(
        'purge',
        () => client.purgeDeletedSecret(name, sig(abortSignal)),
        abortSignal,
      );
      options.log?.info('purged a deleted credential secret to reuse its name', { name });
    } catch (error) {
      if (statusOf(error) === 404) return; // purged or recovered by someone else meanwhile
      if (statusOf(error) !== 403) throw error;
      const poller = await withRetry(
        'recover',
        () => client.beginRecoverDeletedSecret(name, sig(abortSignal)),
        abortSignal,
      );
      await poller.pollUntilDone(sig(abortSignal));
      await disableAll(name, abortSignal);
      options.log?.info('recovered a deleted credential secret (purge not permitted)', { name });
    }
  }

  /** Every enabled version made unreadable (old refresh tokens must not come back). */
  async function disableAll(name: string, abortSignal?: AbortSignal): Promise<void> {
    const enabled: string[] = [];
    await withRetry(
      'list versions',
      async () => {
        enabled.length = 0;
        for await (const p of client.listPropertiesOfSecretVersions(name, sig(abortSignal))) {
          if (p.enabled !== false && p.version) enabled.push(p.version);
        }
      },
      abortSignal,
    );
    for (const version of enabled) {
      await withRetry(
        'disable version',
        () => client.updateSecretProperties(name, version, { enabled: false, ...sig(abortSignal) }),
        abortSignal,
      );
    }
  }

  return {
    kind: 'keyvault',
    get: (name, opts = {}) => getVersion(name, undefined, opts.abortSignal),
    async getAllVersions(name, opts = {}) {
      const versions: SecretProperties[] = [];
      await withRetry(
        'list versions',
        async () => {
          versions.length = 0;
          for await (const p of client.listPropertiesOfSecretVersions(name, {
            ...sig(opts.abortSignal),
          })) {
            if (p.enabled !== false) versions.push(properties(p));
          }
        },
        opts.abortSignal,
      );
      const out: StoredSecret[] = [];
      for (const v of versions) {
        const secret = await getVersion(name, v.version, opts.abortSignal);
        if (secret) out.push(secret);
      }
      return out;
    },
    async set(name, value, opts = {}) {
      if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
        throw new ValidationError({
          path: 'record',
          message: `exceeds the ${MAX_SECRET_VALUE_BYTES}-byte Key Vault secret limit`,
        });
      }
      const write = () =>
        client.setSecret(name, value, {
          ...(opts.tags ? { tags: opts.tags } : {}),
          ...(opts.contentType ? { contentType: opts.contentType } : {}),
          ...sig(opts.abortSignal),
        });
      const giveUpAt = Date.now() + Math.min(budgetMs, remainingMs(opts.abortSignal));
      for (let attempt = 0; ; attempt++) {
        try {
          return properties((await withRetry('write', write, opts.abortSignal)).properties);
        } catch (error) {
          if (statusOf(error) !== 409 || Date.now() > giveUpAt) throw toStoreError('write', error);
          if (opts.mustExist) throw new NotFoundError(`Secret ${name}`);
          // 409: the name is soft-deleted (or its purge is still in progress).
          if (attempt === 0) await freeDeletedName(name, opts.abortSignal);
          else await sleep(baseMs * 2 ** (attempt - 1), opts.abortSignal);
        }
      }
    },
    async list(tags, opts = {}) {
      return withRetry(
        'list',
        async () => {
          const out: SecretProperties[] = [];
          for await (const p of client.listPropertiesOfSecrets(sig(opts.abortSignal))) {
            const t = p.tags ?? {};
            if (p.enabled !== false && Object.entries(tags).every(([k, v]) => t[k] === v)) {
              out.push(properties(p));
            }
          }
          return out;
        },
        opts.abortSignal,
      );
    },
    async disableVersion(name, version, opts = {}) {
      await withRetry(
        'disable version',
        () =>
          client.updateSecretProperties(name, version, {
            enabled: false,
            ...sig(opts.abortSignal),
          }),
        opts.abortSignal,
      );
    },
    async delete(name, opts = {}) {
      try {
        await disableAll(name, opts.abortSignal);
        await withRetry(
          'delete',
          () => client.beginDeleteSecret(name, sig(opts.abortSignal)),
          opts.abortSignal,
        );
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw error;
      }
    },
  };
}
