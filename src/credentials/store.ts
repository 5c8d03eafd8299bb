/**
 * One interface over the places credential records live: Azure Key Vault (production) and a local
 * encrypted file store (dev only). Values are opaque strings (already-encrypted envelopes); the
 * metadata that listing needs travels in `tags` so nothing has to be decrypted to list.
 */
export interface SecretProperties {
  name: string;
  version: string;
  tags: Record<string, string>;
  contentType?: string;
  enabled: boolean;
  updatedOn?: Date;
}

export interface StoredSecret extends SecretProperties {
  value: string;
}

export interface StoreOptions {
  abortSignal?: AbortSignal;
}

export interface SetSecretOptions extends StoreOptions {
  tags?: Record<string, string>;
  contentType?: string;
  /** Write only a new version of a live secret: a deleted one is NotFoundError, never revived. */
  mustExist?: boolean;
}

export interface SecretStore {
  readonly kind: 'keyvault' | 'file';
  /** Latest enabled version, or undefined when the name does not exist. */
  get(name: string, options?: StoreOptions): Promise<StoredSecret | undefined>;
  /** Every version of one secret (properties only), for key rings spread over versions. */
  getAllVersions(name: string, options?: StoreOptions): Promise<StoredSecret[]>;
  /** Writes a new version. A name that was deleted is reused (see the store's own notes). */
  set(name: string, value: string, options?: SetSecretOptions): Promise<SecretProperties>;
  /** Properties of every live secret whose tags contain `tags` (no values). */
  list(tags: Record<string, string>, options?: StoreOptions): Promise<SecretProperties[]>;
  /** Best effort: makes an older version unreadable (old refresh tokens). */
  disableVersion(name: string, version: string, options?: StoreOptions): Promise<void>;
  /** Disables every version first (nothing readable survives a recovery), then deletes. False when nothing was there. */
  delete(name: string, options?: StoreOptions): Promise<boolean>;
}

/** Largest secret value Key Vault accepts (25k bytes); the file store enforces the same limit. */
export const MAX_SECRET_VALUE_BYTES = 25 * 1024;

/** Key Vault secret names: 1–127 of `[0-9A-Za-z-]`, compared case-insensitively. */
export const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** Key Vault allows 15 tags of at most 512 characters each. */
export const MAX_TAGS = 15;
export const MAX_TAG_VALUE = 512;
