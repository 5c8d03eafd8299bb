import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import { azureSdk } from '../core/azure-sdk';
import { UpstreamError } from '../core/errors';
import { type StorageClients, storageStatus } from '../storage';
import { type DataKeyRing } from './data-key';
import { open, seal } from './envelope';
import { type Account, type TokenResult } from './token-endpoint';
import { type CredentialKey } from './types';

/**
 * A mailbox that signed in through a connect link but is not stored yet: the owner must confirm
 * it on the callback page first. Held sealed with the data key (it carries the tokens), for at
 * most 10 minutes, and taken at most once.
 */
export interface PendingConnection {
  key: CredentialKey;
  tokens: TokenResult;
  account: Account;
}

export interface PendingTicket {
  /** Form field of the confirmation page: the entry id and its one-time CSRF token. */
  confirmation: string;
  /** Value of the `SameSite=Strict` cookie the confirmation must come back with. */
  browserNonce: string;
  /** Cookie name (one per pending entry, so two tabs do not overwrite each other). */
  cookieName: string;
  expiresAt: number;
}

export type TakeResult =
  | { ok: true; pending: PendingConnection }
  | { ok: false; reason: 'unknown' | 'expired' | 'forged' };

export interface PendingConnections {
  create(pending: PendingConnection): Promise<PendingTicket>;
  /** Checks the CSRF token and the browser cookie, then removes the entry (single use). */
  take(confirmation: string, cookies: ReadonlyMap<string, string>): Promise<TakeResult>;
  prune(): Promise<number>;
}

export const PENDING_LIFETIME_MS = 10 * 60_000;
export const PENDING_COOKIE_PREFIX = 'omf_connect_';

interface RawEntry {
  value: string;
  expiresAt: number;
}

/** Where sealed entries live: a table shared by instances, or memory (no storage configured). */
export interface PendingBackend {
  put(id: string, entry: RawEntry): Promise<void>;
  get(id: string): Promise<(RawEntry & { remove(): Promise<boolean> }) | undefined>;
  prune(): Promise<number>;
}

export function createMemoryPendingBackend(): PendingBackend {
  const entries = new Map<string, RawEntry>();
  const sweep = () => {
    const now = Date.now();
    let n = 0;
    for (const [id, e] of entries) if (e.expiresAt < now && entries.delete(id)) n++;
    return n;
  };
  return {
    put(id, entry) {
      sweep();
      entries.set(id, entry);
      return Promise.resolve();
    },
    get(id) {
      const entry = entries.get(id);
      if (!entry) return Promise.resolve(undefined);
      return Promise.resolve({
        ...entry,
        remove: () => Promise.resolve(entries.get(id) === entry && entries.delete(id)),
      });
    },
    prune: () => Promise.resolve(sweep()),
  };
}

const PARTITION = 'pending';

/** In the used-state table, under their own partition; an ETag delete makes taking single-use. */
export function createTablePendingBackend(storage: StorageClients): PendingBackend {
  const unavailable = (error: unknown) =>
    new UpstreamError('store_unavailable', 'Could not reach the pending connection store.', {
      cause: error,
    });
  return {
    async put(id, entry) {
      try {
        const table = await storage.table('oauthstates');
        await table.createEntity({ partitionKey: PARTITION, rowKey: id, ...entry });
      } catch (error) {
        throw unavailable(error);
      }
    },
    async get(id) {
      const table = await storage.table('oauthstates');
      try {
        const entity = await table.getEntity<RawEntry>(PARTITION, id);
        return {
          value: entity.value,
          expiresAt: entity.expiresAt,
          async remove() {
            try {
              await table.deleteEntity(PARTITION, id, { etag: entity.etag });
              return true;
            } catch (error) {
              const status = storageStatus(error);
              if (status === 404 || status === 412) return false;
              throw unavailable(error);
            }
          },
        };
      } catch (error) {
        if (storageStatus(error) === 404) return undefined;
        throw unavailable(error);
      }
    },
    async prune() {
      const table = await storage.table('oauthstates');
      let n = 0;
      const expired = table.listEntities<RawEntry>({
        queryOptions: {
          filter: azureSdk.dataTables()
            .odata`PartitionKey eq ${PARTITION} and expiresAt lt ${Date.now()}`,
        },
      });
      for await (const entity of expired) {
        await table.deleteEntity(entity.partitionKey!, entity.rowKey!);
        n++;
      }
      return n;
    },
  };
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const sameHash = (given: string, expectedHex: string) => {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = sha256(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
};
const aad = (id: string) => `outlook-mail-functions/pending-connection/v1\u0000${id}`;
const ID = /^[A-Za-z0-9_-]{22}$/;

interface Sealed extends PendingConnection {
  csrf: string;
  browser: string;
}

export function createPendingConnections(
  backend: PendingBackend,
  ring: DataKeyRing,
): PendingConnections {
  return {
    async create(pending) {
      const id = randomBytes(16).toString('base64url');
      const csrf = randomBytes(24).toString('base64url');
      const browserNonce = randomBytes(24).toString('base64url');
      const expiresAt = Date.now() + PENDING_LIFETIME_MS;
      const sealed: Sealed = {
        ...pending,
        csrf: sha256(csrf).toString('hex'),
        browser: sha256(browserNonce).toString('hex'),
      };
      const value = seal(JSON.stringify(sealed), aad(id), await ring.current());
      await backend.put(id, { value, expiresAt });
      return {
        confirmation: `${id}.${csrf}`,
        browserNonce,
        cookieName: `${PENDING_COOKIE_PREFIX}${id}`,
        expiresAt,
      };
    },
    async take(confirmation, cookies) {
      const [id = '', csrf = '', extra] = confirmation.split('.');
      if (!ID.test(id) || !csrf || extra !== undefined) return { ok: false, reason: 'unknown' };
      const entry = await backend.get(id);
      if (!entry) return { ok: false, reason: 'unknown' };
      if (!(entry.expiresAt > Date.now())) return { ok: false, reason: 'expired' };
      const sealed = JSON.parse(await open(entry.value, aad(id), (k) => ring.find(k))) as Sealed;
      const browser = cookies.get(`${PENDING_COOKIE_PREFIX}${id}`) ?? '';
      if (!sameHash(csrf, sealed.csrf) || !sameHash(browser, sealed.browser)) {
        return { ok: false, reason: 'forged' };
      }
      if (!(await entry.remove())) return { ok: false, reason: 'unknown' };
      return {
        ok: true,
        pending: { key: sealed.key, tokens: sealed.tokens, account: sealed.account },
      };
    },
    prune: () => backend.prune(),
  };
}
