import * as z from 'zod';

import {
  AppError,
  ConflictError,
  isErrorOf,
  NotFoundError,
  UpstreamError,
  ValidationError,
} from '../core/errors';
import { type HealthCheck } from '../core/health';
import { type Logger } from '../core/logger';
import { type ConnectFlow, type ExpectedAccount } from './connect';
import { DATA_KEY_SECRET } from './data-key';
import { RecordUnreadableError } from './envelope';
import { type PendingConnections, type PendingTicket } from './pending-connect';
import { type RecordRepository } from './record';
import {
  type Account,
  isGrantRejected,
  type TokenEndpoint,
  type TokenResult,
} from './token-endpoint';
import { applyRotation } from './rotation';
import { type TokenManager } from './token-manager';
import {
  type CredentialKey,
  type CredentialMeta,
  type CredentialRecord,
  type CredentialView,
  grantedScopesOf,
  withOfflineAccess,
} from './types';

const upn = z
  .string()
  .min(3)
  .max(320)
  .regex(/^[^@\s]+@[^@\s]+$/, 'must be a mailbox address (UPN)');

/** `PUT credentials/{id}` body: strict, so a misspelt field is named instead of ignored. */
export const importBodySchema = z.strictObject({
  refreshToken: z.string().min(1, 'is required').max(16_384),
  /** Accepted for compatibility; the validating refresh supersedes it. */
  accessToken: z.string().min(1).max(16_384).optional(),
  tokenExpiry: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]).optional(),
  clientId: z.string().min(1).optional(),
  scopes: z
    .array(z.string().regex(/^\S{1,200}$/, 'must be a scope name'))
    .min(1)
    .max(50)
    .optional(),
  mailbox: upn.optional(),
});
export type ImportInput = z.infer<typeof importBodySchema>;

export interface ImportResult {
  view: CredentialView;
  created: boolean;
}

export interface KeepAliveSummary {
  checked: number;
  refreshed: number;
  failed: Array<CredentialKey & { code: string }>;
  reauthRequired: CredentialKey[];
}

export interface CredentialService {
  get(key: CredentialKey, options?: { abortSignal?: AbortSignal }): Promise<CredentialView>;
  list(serviceId: string, options?: { abortSignal?: AbortSignal }): Promise<CredentialView[]>;
  /** Validates the refresh token by one refresh and `GET /me`; stores nothing when that fails. */
  importRecord(
    key: CredentialKey,
    input: ImportInput,
    options?: { abortSignal?: AbortSignal },
  ): Promise<ImportResult>;
  delete(key: CredentialKey, options?: { abortSignal?: AbortSignal }): Promise<void>;
  /**
   * A connect link (the authorize URL): it seals the account expected to sign in, the login hint
   * or the account already behind the credential, so nobody else can attach or swap a mailbox.
   */
  connectUrl(
    key: CredentialKey,
    options?: { loginHint?: string; abortSignal?: AbortSignal },
  ): Promise<string>;
  /**
   * The OAuth callback: state check, code redemption and `GET /me`. Stores nothing: a mailbox that
   * matches the link waits for its owner's confirmation (`confirmConnect`).
   */
  beginConnect(
    query: { state?: string; code?: string; error?: string; errorDescription?: string },
    options?: { abortSignal?: AbortSignal },
  ): Promise<ConnectOutcome>;
  /** The owner's confirmation POST: stores the pending mailbox, or drops it on cancel. */
  confirmConnect(
    input: { confirmation: string; cookies: ReadonlyMap<string, string>; accept: boolean },
    options?: { abortSignal?: AbortSignal },
  ): Promise<(ImportResult & { address: string }) | { cancelled: CredentialKey }>;
  /** The display name of a service (config), or its id. */
  serviceName(serviceId: string): string;
  keepAlive(options?: { idleDays?: number; now?: number }): Promise<KeepAliveSummary>;
  healthChecks(): HealthCheck[];
}

export type ConnectOutcome =
  | {
      kind: 'confirm';
      key: CredentialKey;
      serviceName: string;
      account: { address: string; displayName: string };
      ticket: PendingTicket;
    }
  | {
      kind: 'mismatch';
      key: CredentialKey;
      serviceName: string;
      expected: string;
      actual: string;
    };

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

const sameText = (a: string | undefined, b: string | undefined) =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Whether the signed-in account is the one a connect link was made for. */
function isExpected(expected: ExpectedAccount, account: Account): boolean {
  if (expected.id !== undefined && expected.id !== account.id) return false;
  if (
    expected.address !== undefined &&
    !sameText(expected.address, account.address) &&
    !sameText(expected.address, account.userPrincipalName)
  ) {
    return false;
  }
  return true;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const DAY_MS = 24 * 60 * 60_000;
const HEALTH_LIST_TTL_MS = 60_000;

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

export function createCredentialService(options: CredentialServiceOptions): CredentialService {
  const { repo, tokens, log } = options;

  async function viewFromMeta(
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
    // A value too long for a tag: the record itself has it.
    const stored = await repo.read(meta, abortSignal ? { abortSignal } : {});
    if (!stored) throw new NotFoundError(`Credential ${meta.credentialId}`);
    return viewOf(stored.record);
  }

  /** The current record, refusing to replace one that cannot be decrypted. */
  async function existing(key: CredentialKey, abortSignal?: AbortSignal) {
    try {
      return await repo.read(key, abortSignal ? { abortSignal } : {});
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

  async function store(
    key: CredentialKey,
    tokensResult: TokenResult,
    fallbackRefreshToken: string | undefined,
    requestedScopes: readonly string[],
    mailbox: string | undefined,
    abortSignal?: AbortSignal,
    signedIn?: Account,
  ): Promise<ImportResult & { address: string }> {
    const endpoint = options.endpoint();
    const me =
      signedIn ?? (await endpoint.me(tokensResult.accessToken, abortSignal ? { abortSignal } : {}));
    const account = { id: me.id, address: me.address, displayName: me.displayName };
    const previous = await existing(key, abortSignal);
    const refreshToken = tokensResult.refreshToken ?? fallbackRefreshToken;
    if (!refreshToken) {
      throw new UpstreamError('graph_error', 'The identity platform returned no refresh token.');
    }
    const now = Date.now();
    const record: CredentialRecord = {
      serviceId: key.serviceId,
      credentialId: key.credentialId,
      clientId: endpoint.clientId,
      tenantId: endpoint.tenantId,
      scopes: [...requestedScopes],
      grantedScopes:
        tokensResult.grantedScopes.length > 0 ? tokensResult.grantedScopes : [...requestedScopes],
      account,
      ...(mailbox ? { mailbox } : {}),
      refreshToken,
      accessToken: tokensResult.accessToken,
      accessTokenExpiresAt: tokensResult.expiresAt,
      status: 'active',
      createdAt: previous?.record.createdAt ?? now,
      rotatedAt: now,
      lastRefreshedAt: now,
    };
    applyRotation(record, tokensResult, now, log);
    await repo.write(record, abortSignal ? { abortSignal } : {});
    tokens.forget(key);
    if (previous) {
      await repo
        .disableVersion(key, previous.version)
        .catch((error: unknown) => log.warn('could not disable the replaced record', { error }));
    }
    log.info(previous ? 'credential replaced' : 'credential stored', { ...key });
    return { view: viewOf(record), created: !previous, address: account.address };
  }

  // Listing pages through every secret: done at most once a minute however often probes come.
  let listed: { at: number; metas: Promise<CredentialMeta[]> } | undefined;
  async function check() {
    if (!listed || Date.now() - listed.at > HEALTH_LIST_TTL_MS) {
      listed = { at: Date.now(), metas: repo.list(undefined) };
      listed.metas.catch(() => (listed = undefined));
    }
    const metas = await listed.metas;
    const unreadable = tokens.unreadable().map(({ serviceId, credentialId, reason }) => ({
      serviceId,
      credentialId,
      reason,
    }));
    const unpersisted = tokens.unpersisted();
    const mine = ({ serviceId }: { serviceId: string }, only?: string) =>
      only === undefined || serviceId === only;
    const summary = (only?: string) => {
      const own = metas.filter((m) => mine(m, only));
      const keyOf = (m: CredentialMeta) => ({
        serviceId: m.serviceId,
        credentialId: m.credentialId,
      });
      const reauth = own.filter((m) => m.status === 'reauth_required').map(keyOf);
      // Still usable, but the refresh token no longer rotates: reported, not failed.
      const notRotating = own
        .filter((m) => m.status === 'active' && m.notRotatedSince !== undefined)
        .map(keyOf);
      const broken = unreadable.filter((u) => mine(u, only));
      const lost = unpersisted.filter((u) => mine(u, only));
      return {
        ok: broken.length === 0 && lost.length === 0,
        detail: `${own.length} credentials, ${reauth.length} need reconnecting, ${notRotating.length} not rotating`,
        data: {
          count: own.length,
          reauthRequired: reauth,
          unreadable: broken,
          unpersisted: lost,
          notRotating,
        },
      };
    };
    return { ...summary(), forService: (serviceId: string) => summary(serviceId) };
  }

  return {
    async get(key, opts = {}) {
      const meta = await repo.meta(key, opts);
      if (!meta) throw new NotFoundError(`Credential ${key.credentialId}`);
      return viewFromMeta(meta, opts.abortSignal);
    },
    async list(serviceId, opts = {}) {
      const metas = await repo.list(serviceId, opts);
      return Promise.all(metas.map((m) => viewFromMeta(m, opts.abortSignal)));
    },
    async importRecord(key, input, opts = {}) {
      const endpoint = options.endpoint();
      if (
        input.clientId !== undefined &&
        input.clientId.toLowerCase() !== endpoint.clientId.toLowerCase()
      ) {
        throw new ValidationError({
          path: 'clientId',
          message: "must be this service's app registration (CLIENT_ID)",
        });
      }
      const scopes = withOfflineAccess(input.scopes ?? options.scopes);
      let result: TokenResult;
      try {
        result = await endpoint.refresh(input.refreshToken, scopes, opts);
      } catch (error) {
        if (isGrantRejected(error)) {
          throw new ValidationError({
            path: 'refreshToken',
            message: `was rejected by the Microsoft identity platform: ${error.reason}`,
          });
        }
        if (isErrorOf(error, UpstreamError) && error.upstreamCode === 'invalid_scope') {
          throw new ValidationError({ path: 'scopes', message: error.message });
        }
        throw error;
      }
      return store(key, result, input.refreshToken, scopes, input.mailbox, opts.abortSignal);
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
    async connectUrl(key, opts = {}) {
      const current = await existing(key, opts.abortSignal);
      const account = current?.record.account;
      if (account && opts.loginHint && !sameText(opts.loginHint, account.address)) {
        throw new ValidationError({
          path: 'loginHint',
          message: `credential ${key.credentialId} is connected to another mailbox; DELETE it before connecting a different one`,
        });
      }
      const expected = {
        ...(account ? { id: account.id } : {}),
        ...(opts.loginHint ? { address: opts.loginHint } : {}),
      };
      return options.connect.authorizeUrl(key, {
        ...(opts.loginHint ? { loginHint: opts.loginHint } : {}),
        expected,
      });
    },
    serviceName: (serviceId) => options.serviceName(serviceId),
    async beginConnect(query, opts = {}) {
      if (!query.state) throw new ValidationError({ path: 'state', message: 'is required' });
      const state = await options.connect.consumeState(query.state);
      if (query.error) {
        const why =
          query.error === 'access_denied'
            ? 'the sign-in was cancelled or consent was not given'
            : 'the Microsoft sign-in did not complete';
        throw new ValidationError({
          path: 'error',
          message: `${query.error}: ${why}${query.errorDescription ? ` (${query.errorDescription.slice(0, 300)})` : ''}`,
        });
      }
      if (!query.code) throw new ValidationError({ path: 'code', message: 'is required' });
      const endpoint = options.endpoint();
      let result: TokenResult;
      try {
        result = await endpoint.redeemCode(
          {
            code: query.code,
            codeVerifier: state.codeVerifier,
            redirectUri: options.connect.redirectUri,
            scopes: options.scopes,
          },
          opts,
        );
      } catch (error) {
        if (isGrantRejected(error)) {
          throw new ValidationError({
            path: 'code',
            message: `was rejected by the Microsoft identity platform: ${error.reason}`,
          });
        }
        throw error;
      }
      const account = await endpoint.me(result.accessToken, opts);
      const serviceName = options.serviceName(state.key.serviceId);
      if (!isExpected(state.expected, account)) {
        log.warn('connect refused: another account signed in than the link was made for', {
          ...state.key,
        });
        return {
          kind: 'mismatch',
          key: state.key,
          serviceName,
          expected:
            state.expected.address ??
            (await existing(state.key, opts.abortSignal))?.record.account.address ??
            'the mailbox already connected',
          actual: account.address,
        };
      }
      const ticket = await options.pending.create({ key: state.key, tokens: result, account });
      return {
        kind: 'confirm',
        key: state.key,
        serviceName,
        account: { address: account.address, displayName: account.displayName },
        ticket,
      };
    },
    async confirmConnect(input, opts = {}) {
      const taken = await options.pending.take(input.confirmation, input.cookies);
      if (!taken.ok) {
        throw new ValidationError({
          path: 'confirmation',
          message:
            taken.reason === 'expired'
              ? 'has expired (confirm within 10 minutes); start the connection again'
              : taken.reason === 'forged'
                ? 'does not belong to this browser session; start the connection again'
                : 'is unknown or has already been used; start the connection again',
        });
      }
      const { key, tokens: result, account } = taken.pending;
      if (!input.accept) {
        log.info('connect cancelled by the mailbox owner', { ...key });
        return { cancelled: key };
      }
      return store(key, result, undefined, options.scopes, undefined, opts.abortSignal, account);
    },
    async keepAlive(opts = {}) {
      const now = opts.now ?? Date.now();
      const idleMs = (opts.idleDays ?? options.keepAliveIdleDays) * DAY_MS;
      const metas = await repo.list(undefined);
      const summary: KeepAliveSummary = {
        checked: metas.length,
        refreshed: 0,
        failed: [],
        reauthRequired: [],
      };
      for (const meta of metas) {
        const key = { serviceId: meta.serviceId, credentialId: meta.credentialId };
        if (meta.status === 'reauth_required') {
          summary.reauthRequired.push(key);
          log.warn('credential needs to be connected again', {
            ...key,
            connectUrl: options.connectUrlFor(meta.credentialId),
          });
          continue;
        }
        const lastActivity = meta.lastRefreshedAt ?? meta.rotatedAt ?? meta.createdAt ?? 0;
        if (now - lastActivity < idleMs) continue;
        try {
          await tokens.getAccessToken(key, { forceRefresh: true });
          summary.refreshed++;
        } catch (error) {
          const code = isErrorOf(error, AppError) ? error.code : 'internal';
          if (code === 'reauth_required') {
            summary.reauthRequired.push(key);
            log.warn('credential needs to be connected again', {
              ...key,
              connectUrl: options.connectUrlFor(meta.credentialId),
            });
          } else {
            summary.failed.push({ ...key, code });
            log.error('keep-alive refresh failed', { ...key, error });
          }
        }
      }
      await Promise.all([options.connect.pruneStates(), options.pending.prune()]).catch(
        (error: unknown) => log.warn('could not prune used OAuth states', { error }),
      );
      log.info('credential keep-alive finished', {
        checked: summary.checked,
        refreshed: summary.refreshed,
        failed: summary.failed.length,
        reauthRequired: summary.reauthRequired.length,
      });
      return summary;
    },
    healthChecks: () => [
      {
        name: 'secretStore',
        async check({ abortSignal }) {
          await repo.store.get(DATA_KEY_SECRET, { abortSignal });
          return { ok: true, detail: repo.store.kind };
        },
      },
      { name: 'credentials', check },
    ],
  };
}
