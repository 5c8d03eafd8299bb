import { NotFoundError } from '../core/errors';
import { type HealthCheck } from '../core/health';
import { type Logger } from '../core/logger';
import { type ConnectFlow } from './connect';
import { type ConnectSteps, createConnectSteps } from './connect-steps';
import { createGrantWriter, type ImportResult } from './grant-writer';
import { credentialHealthChecks } from './health';
import { type ImportInput, refreshForImport } from './import';
import { keepAlive, type KeepAliveSummary } from './keep-alive';
import { type PendingConnections } from './pending-connect';
import { type RecordRepository } from './record';
import { type TokenEndpoint } from './token-endpoint';
import { type TokenManager } from './token-manager';
import { type CredentialKey, type CredentialView } from './types';
import { viewFromMeta } from './views';

export { importBodySchema, type ImportInput } from './import';
export { viewOf } from './views';
export type { ConnectOutcome } from './connect-steps';
export type { ImportResult } from './grant-writer';
export type { KeepAliveSummary } from './keep-alive';

export interface CredentialService extends ConnectSteps {
  get(key: CredentialKey, options?: { abortSignal?: AbortSignal }): Promise<CredentialView>;
  list(serviceId: string, options?: { abortSignal?: AbortSignal }): Promise<CredentialView[]>;
  /** Validates the refresh token by one refresh and `GET /me`; stores nothing when that fails. */
  importRecord(
    key: CredentialKey,
    input: ImportInput,
    options?: { abortSignal?: AbortSignal },
  ): Promise<ImportResult>;
  delete(key: CredentialKey, options?: { abortSignal?: AbortSignal }): Promise<void>;
  /** The display name of a service (config), or its id. */
  serviceName(serviceId: string): string;
  keepAlive(options?: { idleDays?: number; now?: number }): Promise<KeepAliveSummary>;
  healthChecks(): HealthCheck[];
}

export interface CredentialServiceOptions {
  repo: RecordRepository;
  tokens: TokenManager;
  endpoint: () => TokenEndpoint;
  connect: ConnectFlow;
  pending: PendingConnections;
  /** What a mailbox owner is told the requesting service is called. */
  serviceName(serviceId: string): string;
  /** Requested when connecting, and on import unless the caller names its own (with `offline_access`). */
  scopes: readonly string[];
  keepAliveIdleDays: number;
  /** Where a caller re-connects a credential (logged for reauth_required ones). */
  connectUrlFor(credentialId: string): string;
  log: Logger;
  /**
   * Removes what other rooms keep per credential (signatures, cached identities). Runs after a
   * delete, and again on a delete of a credential already gone, so a retry finishes a cleanup
   * that failed half-way.
   */
  onDeleted?: (key: CredentialKey) => Promise<void>;
}

/**
 * Composes the credential steps: views (`views.ts`), import (`import.ts`), storing a grant
 * (`grant-writer.ts`), the connect flow (`connect-steps.ts`), keep-alive and health.
 */
export function createCredentialService(options: CredentialServiceOptions): CredentialService {
  const { repo, tokens, log } = options;
  const writer = createGrantWriter({ repo, tokens, endpoint: options.endpoint, log });
  const connect = createConnectSteps({ ...options, writer });
  const checks = credentialHealthChecks({ repo, tokens });

  return {
    async get(key, opts = {}) {
      const meta = await repo.meta(key, opts);
      if (!meta) throw new NotFoundError(`Credential ${key.credentialId}`);
      return viewFromMeta(repo, meta, opts.abortSignal);
    },
    async list(serviceId, opts = {}) {
      const metas = await repo.list(serviceId, opts);
      return Promise.all(metas.map((m) => viewFromMeta(repo, m, opts.abortSignal)));
    },
    async importRecord(key, input, opts = {}) {
      const { result, scopes } = await refreshForImport(
        options.endpoint(),
        input,
        options.scopes,
        opts,
      );
      return writer.write(
        {
          key,
          tokens: result,
          scopes,
          fallbackRefreshToken: input.refreshToken,
          mailbox: input.mailbox,
        },
        opts,
      );
    },
    async delete(key, opts = {}) {
      const meta = await repo.meta(key, opts);
      if (meta) {
        await repo.delete(key, opts);
        tokens.forget(key);
        log.info('credential deleted', { ...key });
      }
      await options.onDeleted?.(key);
      if (!meta) throw new NotFoundError(`Credential ${key.credentialId}`);
    },
    ...connect,
    serviceName: (serviceId) => options.serviceName(serviceId),
    keepAlive: (opts) =>
      keepAlive(
        {
          repo,
          tokens,
          idleDays: options.keepAliveIdleDays,
          connectUrlFor: (credentialId) => options.connectUrlFor(credentialId),
          prune: () => Promise.all([options.connect.pruneStates(), options.pending.prune()]),
          log,
        },
        opts,
      ),
    healthChecks: () => checks,
  };
}
