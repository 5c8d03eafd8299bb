import { createHash } from 'node:crypto';

import { type Logger } from '../core/logger';
import { type CredentialIndex } from './credential-index';
import { type DataKeyRing } from './data-key';
import { open, RecordUnreadableError, seal } from './envelope';
import { MAX_TAG_VALUE, type SecretStore, type StoreOptions } from './store';
import {
  type CredentialKey,
  type CredentialMeta,
  type CredentialRecord,
  grantedScopesOf,
} from './types';

export const RECORD_CONTENT_TYPE = 'application/vnd.outlook-mail-functions.credential+json;v=1';

/**
 * Secret name of a credential. Key Vault names are at most 127 characters of `[0-9A-Za-z-]` and
 * compared case-insensitively, so two 64-character case-sensitive ids cannot be encoded
 * reversibly; a SHA-256 of both (length-prefixed, so `a/bc` ≠ `ab/c`) is collision-free in
 * practice. The ids themselves live in the tags and in the envelope's associated data.
 */
export function secretNameFor(key: CredentialKey): string {
  const digest = createHash('sha256')
    .update(`${key.serviceId.length}:${key.serviceId}/${key.credentialId}`, 'utf8')
    .digest('hex');
  return `cred-${digest}`;
}

/** Binds a ciphertext to its owner: a record copied under another name fails to decrypt. */
function associatedData(key: CredentialKey): string {
  return `outlook-mail-functions/credential/v1\u0000${key.serviceId}\u0000${key.credentialId}`;
}

const fits = (value: string | undefined): value is string =>
  value !== undefined && value.length <= MAX_TAG_VALUE;

function tagsFor(record: CredentialRecord, keyId: string): Record<string, string> {
  const tags: Record<string, string> = {
    kind: 'credential',
    serviceId: record.serviceId,
    credentialId: record.credentialId,
    status: record.status,
    createdAt: String(record.createdAt),
    rotatedAt: String(record.rotatedAt),
    keyId,
  };
  const optional: Record<string, string | undefined> = {
    address: record.account.address,
    displayName: record.account.displayName,
    scopes: grantedScopesOf(record).join(' '),
    tokenExpiry:
      record.accessTokenExpiresAt === undefined ? undefined : String(record.accessTokenExpiresAt),
    lastRefreshedAt:
      record.lastRefreshedAt === undefined ? undefined : String(record.lastRefreshedAt),
    notRotatedSince:
      record.notRotatedSince === undefined ? undefined : String(record.notRotatedSince),
  };
  for (const [k, v] of Object.entries(optional)) if (fits(v)) tags[k] = v;
  return tags;
}

const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

export function metaFromTags(tags: Record<string, string>): CredentialMeta | undefined {
  if (tags.kind !== 'credential' || !tags.serviceId || !tags.credentialId) return undefined;
  const meta: CredentialMeta = {
    serviceId: tags.serviceId,
    credentialId: tags.credentialId,
    status: tags.status === 'reauth_required' ? 'reauth_required' : 'active',
  };
  const assign = <K extends keyof CredentialMeta>(k: K, v: CredentialMeta[K] | undefined) => {
    if (v !== undefined) meta[k] = v;
  };
  assign('address', tags.address);
  assign('displayName', tags.displayName);
  assign('scopes', tags.scopes === undefined ? undefined : tags.scopes.split(' ').filter(Boolean));
  assign('tokenExpiry', num(tags.tokenExpiry));
  assign('lastRefreshedAt', num(tags.lastRefreshedAt));
  assign('rotatedAt', num(tags.rotatedAt));
  assign('createdAt', num(tags.createdAt));
  assign('notRotatedSince', num(tags.notRotatedSince));
  assign('keyId', tags.keyId);
  return meta;
}

export interface StoredRecord {
  record: CredentialRecord;
  version: string;
}

export interface RecordRepository {
  read(key: CredentialKey, options?: StoreOptions): Promise<StoredRecord | undefined>;
  /**
   * Encrypts with the current data key and writes a new version; returns its version id.
   * `mustExist`: only over a live record (NotFoundError when it was deleted meanwhile).
   */
  write(
    record: CredentialRecord,
    options?: StoreOptions & { mustExist?: boolean },
  ): Promise<string>;
  /** Version id of the current record, or undefined when there is none (deleted). */
  currentVersion(key: CredentialKey, options?: StoreOptions): Promise<string | undefined>;
  /** Tag metadata only; nothing is decrypted. `serviceId` undefined = every service. */
  list(serviceId: string | undefined, options?: StoreOptions): Promise<CredentialMeta[]>;
  meta(key: CredentialKey, options?: StoreOptions): Promise<CredentialMeta | undefined>;
  delete(key: CredentialKey, options?: StoreOptions): Promise<boolean>;
  disableVersion(key: CredentialKey, version: string, options?: StoreOptions): Promise<void>;
  readonly store: SecretStore;
}

export interface RecordRepositoryOptions {
  /** Per-service index of the records (Key Vault): a service's listing then reads no vault page. */
  index?: CredentialIndex;
  log?: Logger;
}

const toMetas = (tagsList: Array<Record<string, string>>) =>
  tagsList
    .map(metaFromTags)
    .filter((m): m is CredentialMeta => m !== undefined)
    .sort((a, b) => a.credentialId.localeCompare(b.credentialId));

export function createRecordRepository(
  store: SecretStore,
  ring: DataKeyRing,
  { index, log }: RecordRepositoryOptions = {},
): RecordRepository {
  return {
    store,
    async read(key, options = {}) {
      const name = secretNameFor(key);
      const secret = await store.get(name, options);
      if (!secret) return undefined;
      const plaintext = await open(secret.value, associatedData(key), (id) => ring.find(id));
      let record: CredentialRecord;
      try {
        record = JSON.parse(plaintext) as CredentialRecord;
      } catch (error) {
        throw new RecordUnreadableError('the decrypted record is not JSON', undefined, {
          cause: error,
        });
      }
      if (record.serviceId !== key.serviceId || record.credentialId !== key.credentialId) {
        throw new RecordUnreadableError('the record belongs to another credential');
      }
      return { record, version: secret.version };
    },
    async write(record, options = {}) {
      const key = await ring.current();
      const value = seal(JSON.stringify(record), associatedData(record), key);
      const tags = tagsFor(record, key.id);
      const props = await store.set(secretNameFor(record), value, {
        ...options,
        tags,
        contentType: RECORD_CONTENT_TYPE,
      });
      try {
        await index?.put(tags, options);
      } catch (error) {
        // A new record must be listed: the caller retries. A token rotation (mustExist) is not
        // undone for it; the listing shows the previous tags until the next write.
        if (!options.mustExist) throw error;
        log?.warn('credential index not updated', {
          serviceId: record.serviceId,
          credentialId: record.credentialId,
          error,
        });
      }
      return props.version;
    },
    async list(serviceId, options = {}) {
      if (serviceId !== undefined && index) {
        const indexed = await index.list(serviceId, options);
        if (indexed) return toMetas(indexed);
      }
      // Every secret of the vault, page by page: for all services (operators, the keep-alive
      // timer), without an index, or once to build it.
      const found = (await store.list({ kind: 'credential' }, options)).map((p) => p.tags);
      await index?.build(found, options);
      return toMetas(
        serviceId === undefined ? found : found.filter((tags) => tags.serviceId === serviceId),
      );
    },
    async currentVersion(key, options = {}) {
      return (await store.get(secretNameFor(key), options))?.version;
    },
    async meta(key, options = {}) {
      const secret = await store.get(secretNameFor(key), options);
      const meta = secret ? metaFromTags(secret.tags) : undefined;
      // Tags are not authenticated: the name must match too (it is derived from both ids).
      return meta && meta.serviceId === key.serviceId && meta.credentialId === key.credentialId
        ? meta
        : undefined;
    },
    async delete(key, options = {}) {
      const deleted = await store.delete(secretNameFor(key), options);
      // Also when the secret was already gone: a delete retried after an index failure cleans up.
      await index?.remove(key, options);
      return deleted;
    },
    disableVersion: (key, version, options = {}) =>
      store.disableVersion(secretNameFor(key), version, options),
  };
}
