/* eslint-disable @typescript-eslint/require-await -- an in-memory fake of async interfaces */
import { randomBytes } from 'node:crypto';

import { createLogger, type Logger } from '../../src/core/logger';
import {
  type SecretProperties,
  type SecretStore,
  type StoredSecret,
} from '../../src/credentials/store';
import {
  GrantRejectedError,
  type TokenEndpoint,
  type TokenResult,
} from '../../src/credentials/token-endpoint';

/** In-memory SecretStore with fault hooks (unit tests only; integration tests use Key Vault). */
export interface MemoryStore extends SecretStore {
  secrets: Map<string, StoredSecret[]>;
  failWrites: number;
  writes: number;
  onWrite?: (() => void) | undefined;
}

export function memoryStore(): MemoryStore {
  const secrets = new Map<string, StoredSecret[]>();
  const latest = (name: string) =>
    secrets
      .get(name.toLowerCase())
      ?.filter((v) => v.enabled)
      .at(-1);
  const store: MemoryStore = {
    kind: 'keyvault',
    secrets,
    failWrites: 0,
    writes: 0,
    get: async (name) => latest(name),
    getAllVersions: async (name) => [...(secrets.get(name.toLowerCase()) ?? [])],
    async set(name, value, opts = {}) {
      store.onWrite?.();
      if (store.failWrites > 0) {
        store.failWrites--;
        throw Object.assign(new Error('store down'), { statusCode: 503 });
      }
      store.writes++;
      const v: StoredSecret = {
        name,
        version: randomBytes(16).toString('hex'),
        value,
        tags: opts.tags ?? {},
        enabled: true,
        updatedOn: new Date(),
      };
      secrets.set(name.toLowerCase(), [...(secrets.get(name.toLowerCase()) ?? []), v]);
      const { value: _v, ...props } = v;
      return props;
    },
    async list(tags) {
      const out: SecretProperties[] = [];
      for (const name of secrets.keys()) {
        const v = latest(name);
        if (v && Object.entries(tags).every(([k, val]) => v.tags[k] === val)) {
          const { value: _v, ...props } = v;
          out.push(props);
        }
      }
      return out;
    },
    async disableVersion(name, version) {
      const v = secrets.get(name.toLowerCase())?.find((x) => x.version === version);
      if (v) v.enabled = false;
    },
    async delete(name) {
      return secrets.delete(name.toLowerCase());
    },
  };
  return store;
}

export interface FakeEndpoint extends TokenEndpoint {
  calls: number;
  /** The scopes each refresh asked for. */
  requested: string[][];
  valid: Set<string>;
  /** Next refreshes fail with these (in order). */
  failures: Array<Error>;
  delayMs: number;
}

/** A token endpoint that rotates refresh tokens and never revokes old ones (like Entra). */
export function fakeEndpoint(initialRefreshToken = 'rt-0'): FakeEndpoint {
  let n = 0;
  const ep: FakeEndpoint = {
    clientId: '11111111-2222-3333-4444-555555555555',
    tenantId: 'contoso',
    calls: 0,
    requested: [],
    valid: new Set([initialRefreshToken]),
    failures: [],
    delayMs: 0,
    authorizeUrl: () => 'https://login.example/authorize',
    async refresh(rt, scopes): Promise<TokenResult> {
      ep.calls++;
      ep.requested.push([...scopes]);
      if (ep.delayMs) await new Promise((r) => setTimeout(r, ep.delayMs));
      const failure = ep.failures.shift();
      if (failure) throw failure;
      if (!ep.valid.has(rt)) throw new GrantRejectedError('invalid_grant', [70000]);
      n++;
      const next = `rt-${n}-${randomBytes(4).toString('hex')}`;
      ep.valid.add(next);
      return {
        accessToken: `at-${n}-${randomBytes(4).toString('hex')}`,
        expiresAt: Date.now() + 3600_000,
        refreshToken: next,
        grantedScopes: [...scopes],
      };
    },
    async redeemCode() {
      throw new Error('not used');
    },
    async me() {
      return { id: 'user-1', address: 'adele@contoso.example', displayName: 'Adele' };
    },
  };
  return ep;
}

export function captureLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger((level, line) => lines.push(`${level} ${line}`)), lines };
}
