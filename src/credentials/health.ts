import { type HealthCheck } from '../core/health';
import { DATA_KEY_SECRET } from './data-key';
import { type RecordRepository } from './record';
import { type TokenManager } from './token-manager';
import { type CredentialKey, type CredentialMeta } from './types';

/** Listing pages through every secret: done at most once a minute however often probes come. */
export const HEALTH_LIST_TTL_MS = 60_000;

export interface CredentialHealthOptions {
  repo: Pick<RecordRepository, 'list' | 'store'>;
  tokens: Pick<TokenManager, 'unreadable' | 'unpersisted'>;
  now?: () => number;
}

const keyOf = (m: CredentialKey): CredentialKey => ({
  serviceId: m.serviceId,
  credentialId: m.credentialId,
});

/**
 * The secret store answers, and the credentials' state: failing while a record cannot be decrypted
 * or a rotated refresh token is held in memory only; counting those that need reconnecting and
 * those whose refresh token no longer rotates (usable, so reported, not failed).
 */
export function credentialHealthChecks(options: CredentialHealthOptions): HealthCheck[] {
  const { repo, tokens } = options;
  const now = options.now ?? Date.now;
  let listed: { at: number; metas: Promise<CredentialMeta[]> } | undefined;

  function metas() {
    if (!listed || now() - listed.at > HEALTH_LIST_TTL_MS) {
      const current = { at: now(), metas: repo.list(undefined) };
      listed = current;
      // A failed listing is not kept: the next probe asks again.
      current.metas.catch(() => {
        if (listed === current) listed = undefined;
      });
    }
    return listed.metas;
  }

  async function check() {
    const all = await metas();
    const unreadable = tokens.unreadable().map(({ serviceId, credentialId, reason }) => ({
      serviceId,
      credentialId,
      reason,
    }));
    const unpersisted = tokens.unpersisted();
    const mine = ({ serviceId }: { serviceId: string }, only?: string) =>
      only === undefined || serviceId === only;
    const summary = (only?: string) => {
      const own = all.filter((m) => mine(m, only));
      const reauth = own.filter((m) => m.status === 'reauth_required').map(keyOf);
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

  return [
    {
      name: 'secretStore',
      async check({ abortSignal }) {
        await repo.store.get(DATA_KEY_SECRET, { abortSignal });
        return { ok: true, detail: repo.store.kind };
      },
    },
    { name: 'credentials', check },
  ];
}
