import { AppError, isErrorOf } from '../core/errors';
import { type Logger } from '../core/logger';
import { type RecordRepository } from './record';
import { type TokenManager } from './token-manager';
import { type CredentialKey, type CredentialMeta } from './types';

const DAY_MS = 24 * 60 * 60_000;

export interface KeepAliveSummary {
  checked: number;
  refreshed: number;
  failed: Array<CredentialKey & { code: string }>;
  reauthRequired: CredentialKey[];
}

export interface KeepAliveOptions {
  repo: Pick<RecordRepository, 'list'>;
  tokens: Pick<TokenManager, 'getAccessToken'>;
  idleDays: number;
  /** Where a caller re-connects a credential (logged for reauth_required ones). */
  connectUrlFor(credentialId: string): string;
  /** Housekeeping of the connect flow (used states, pending confirmations), best effort. */
  prune(): Promise<unknown>;
  log: Logger;
}

/** When a credential was last used or renewed (epoch ms; 0 when never). */
const lastActivityOf = (meta: CredentialMeta) =>
  meta.lastRefreshedAt ?? meta.rotatedAt ?? meta.createdAt ?? 0;

/**
 * Refreshes every credential idle for `idleDays` so its refresh token never reaches the end of
 * its inactivity lifetime, and names (in the log, with the connect URL) those that need their
 * owner to connect again. One credential failing never stops the others.
 */
export async function keepAlive(
  options: KeepAliveOptions,
  { idleDays = options.idleDays, now = Date.now() }: { idleDays?: number; now?: number } = {},
): Promise<KeepAliveSummary> {
  const { log } = options;
  const idleMs = idleDays * DAY_MS;
  const metas = await options.repo.list(undefined);
  const summary: KeepAliveSummary = {
    checked: metas.length,
    refreshed: 0,
    failed: [],
    reauthRequired: [],
  };
  const needsReauth = (key: CredentialKey) => {
    summary.reauthRequired.push(key);
    log.warn('credential needs to be connected again', {
      ...key,
      connectUrl: options.connectUrlFor(key.credentialId),
    });
  };
  for (const meta of metas) {
    const key = { serviceId: meta.serviceId, credentialId: meta.credentialId };
    if (meta.status === 'reauth_required') {
      needsReauth(key);
      continue;
    }
    if (now - lastActivityOf(meta) < idleMs) continue;
    try {
      await options.tokens.getAccessToken(key, { forceRefresh: true });
      summary.refreshed++;
    } catch (error) {
      const code = isErrorOf(error, AppError) ? error.code : 'internal';
      if (code === 'reauth_required') {
        needsReauth(key);
      } else {
        summary.failed.push({ ...key, code });
        log.error('keep-alive refresh failed', { ...key, error });
      }
    }
  }
  await options
    .prune()
    .catch((error: unknown) => log.warn('could not prune used OAuth states', { error }));
  log.info('credential keep-alive finished', {
    checked: summary.checked,
    refreshed: summary.refreshed,
    failed: summary.failed.length,
    reauthRequired: summary.reauthRequired.length,
  });
  return summary;
}
