import { hkdf, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { type Logger } from '../core/logger';
import { type DataKey } from './envelope';
import { type KeyWrapper } from './key-wrap';
import { type SecretStore } from './store';
import { type AppKeys } from './types';

/**
 * The data key ring: every key ever used (to decrypt old records) and the current one (to encrypt).
 * In Azure it is a Key Vault secret created on first use, its keys wrapped by a Key Vault key
 * (`KEY_VAULT_KEY_NAME`, see ./key-wrap.ts) so reading secrets alone decrypts nothing; locally
 * `{localDataDir}/data-key.json` (0600). Rotation adds a key and makes it current; records are
 * re-encrypted on their next write. A ring written before wrapping (raw keys) is still read; the
 * first load with a wrapping key wraps every key, adds a new current one (records move to it on
 * their next write) and disables the secret versions that held raw keys.
 */
export interface DataKeyRing {
  current(): Promise<DataKey>;
  find(id: string): Promise<DataKey | undefined>;
  rotate(): Promise<DataKey>;
}

interface RingKey {
  id: string;
  /** Raw key (base64): rings written before key wrapping, and the local file ring. */
  key?: string;
  /** Versioned id of the Key Vault key that wrapped `wrapped`. */
  kek?: string;
  wrapped?: string;
  createdAt: string;
}

interface RingFile {
  v: 1 | 2;
  current: string;
  keys: RingKey[];
}

type LoadedRing = RingFile & { version?: string };

export const DATA_KEY_SECRET = 'app-data-key';
const RELOAD_MIN_INTERVAL_MS = 10_000;

function newKey(): { id: string; raw: Buffer; createdAt: string } {
  const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  return {
    id: `k${stamp}-${randomBytes(4).toString('hex')}`,
    raw: randomBytes(32),
    createdAt: new Date().toISOString(),
  };
}

function parseRing(text: string): RingFile {
  const ring = JSON.parse(text) as RingFile;
  if (
    (ring?.v !== 1 && ring?.v !== 2) ||
    typeof ring.current !== 'string' ||
    !Array.isArray(ring.keys)
  ) {
    throw new Error('the data key ring has an unknown format');
  }
  return ring;
}

const holdsRawKeys = (ring: RingFile) => ring.keys.some((k) => k.key !== undefined);

interface RingSource {
  /** Every ring version known, newest (authoritative for `current`) first; [] when none exists. */
  load(): Promise<LoadedRing[]>;
  save(ring: RingFile): Promise<void>;
  /** First write; a concurrent creator that got there first wins. */
  create(ring: RingFile): Promise<void>;
  /** Makes older ring versions unreadable (those that held raw keys). */
  retire(versions: string[]): Promise<void>;
}

function fileSource(dir: string, log?: Logger): RingSource {
  const file = path.join(dir, 'data-key.json');
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const mode = (await stat(file)).mode & 0o777;
      if (process.platform !== 'win32' && mode !== 0o600) {
        log?.warn('data key file had loose permissions; set to 0600', { mode: mode.toString(8) });
        await chmod(file, 0o600);
      }
      return [parseRing(text)];
    },
    async save(ring) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(ring, null, 2), { mode: 0o600, flag: 'wx' });
      await rename(tmp, file);
    },
    async create(ring) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        await writeFile(file, JSON.stringify(ring, null, 2), { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    },
    retire: () => Promise.resolve(), // one file, replaced on save
  };
}

function secretSource(store: SecretStore): RingSource {
  const save = async (ring: RingFile) => {
    await store.set(DATA_KEY_SECRET, JSON.stringify(ring), {
      tags: { kind: 'data-key' },
      contentType: 'application/vnd.outlook-mail-functions.key-ring+json',
    });
  };
  return {
    async load() {
      const latest = await store.get(DATA_KEY_SECRET);
      if (!latest) return [];
      // Two instances creating the ring at once each write a version: keep every version's keys.
      const all = await store.getAllVersions(DATA_KEY_SECRET);
      return [latest, ...all.filter((v) => v.version !== latest.version)].map((v) => ({
        ...parseRing(v.value),
        version: v.version,
      }));
    },
    save,
    create: save,
    async retire(versions) {
      for (const version of versions) await store.disableVersion(DATA_KEY_SECRET, version);
    },
  };
}

function createRing(source: RingSource, wrapper: KeyWrapper | undefined): DataKeyRing {
  let state:
    Promise<{ current: DataKey; keys: Map<string, DataKey>; loadedAt: number }> | undefined;

  async function open(k: RingKey): Promise<DataKey> {
    if (k.wrapped !== undefined && k.kek !== undefined) {
      if (!wrapper) {
        throw new Error(
          `data key ${k.id} is wrapped by a Key Vault key: set KEY_VAULT_KEY_NAME to that key`,
        );
      }
      return { id: k.id, key: await wrapper.unwrap(k.kek, k.wrapped) };
    }
    if (k.key !== undefined) return { id: k.id, key: Buffer.from(k.key, 'base64') };
    throw new Error(`data key ${k.id} has neither a key nor a wrapped key`);
  }

  async function stored(id: string, raw: Buffer, createdAt: string): Promise<RingKey> {
    return wrapper
      ? { id, ...(await wrapper.wrap(raw)), createdAt }
      : { id, key: raw.toString('base64'), createdAt };
  }

  /** Every known key (raw ones wrapped when a wrapper exists) plus a new current key. */
  async function writeNext(rings: LoadedRing[]): Promise<void> {
    const keys = new Map<string, RingKey>();
    for (const ring of rings) {
      for (const k of ring.keys) {
        if (keys.has(k.id)) continue;
        keys.set(
          k.id,
          wrapper && k.key !== undefined
            ? await stored(k.id, Buffer.from(k.key, 'base64'), k.createdAt)
            : k,
        );
      }
    }
    const fresh = newKey();
    keys.set(fresh.id, await stored(fresh.id, fresh.raw, fresh.createdAt));
    await source.save({ v: wrapper ? 2 : 1, current: fresh.id, keys: [...keys.values()] });
    if (wrapper) {
      await source.retire(
        rings.filter(holdsRawKeys).flatMap((r) => (r.version === undefined ? [] : [r.version])),
      );
    }
  }

  async function load(migrated = false): Promise<{
    current: DataKey;
    keys: Map<string, DataKey>;
    loadedAt: number;
  }> {
    let rings = await source.load();
    if (rings.length === 0) {
      const key = newKey();
      await source.create({
        v: wrapper ? 2 : 1,
        current: key.id,
        keys: [await stored(key.id, key.raw, key.createdAt)],
      });
      rings = await source.load();
    }
    if (wrapper && !migrated && rings.some(holdsRawKeys)) {
      await writeNext(rings);
      return load(true);
    }
    const keys = new Map<string, DataKey>();
    for (const ring of rings) {
      for (const k of ring.keys) if (!keys.has(k.id)) keys.set(k.id, await open(k));
    }
    const current = keys.get(rings[0]!.current);
    if (!current) throw new Error('the data key ring names a current key it does not hold');
    return { current, keys, loadedAt: Date.now() };
  }

  function loaded() {
    if (!state) {
      state = load();
      state.catch(() => (state = undefined));
    }
    return state;
  }

  return {
    current: async () => (await loaded()).current,
    async find(id) {
      let s = await loaded();
      // Another instance may have rotated: reload, but not on every unknown id.
      if (!s.keys.has(id) && Date.now() - s.loadedAt > RELOAD_MIN_INTERVAL_MS) {
        state = undefined;
        s = await loaded();
      }
      return s.keys.get(id);
    },
    async rotate() {
      await writeNext(await source.load());
      state = undefined;
      return (await loaded()).current;
    },
  };
}

export function createFileDataKeyRing(dir: string, log?: Logger): DataKeyRing {
  return createRing(fileSource(dir, log), undefined);
}

export function createSecretDataKeyRing(store: SecretStore, wrapper?: KeyWrapper): DataKeyRing {
  return createRing(secretSource(store), wrapper);
}

function derive(key: Buffer, info: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) =>
    hkdf('sha256', key, 'outlook-mail-functions', info, 32, (e, k) =>
      e ? reject(e) : resolve(Buffer.from(k)),
    ),
  );
}

/** HMAC and sealing keys per purpose, derived with HKDF-SHA256 from the data keys. */
export function createAppKeys(ring: DataKeyRing): AppKeys {
  const cache = new Map<string, { keyId: string; value: Promise<Buffer> }>();
  const sealing = new Map<string, Promise<Buffer>>();
  return {
    async hmacKey(purpose) {
      const current = await ring.current();
      const hit = cache.get(purpose);
      if (hit && hit.keyId === current.id) return hit.value;
      const value = derive(current.key, `hmac:${purpose}`);
      cache.set(purpose, { keyId: current.id, value });
      return value;
    },
    async sealingKey(purpose, keyId) {
      const base = keyId === undefined ? await ring.current() : await ring.find(keyId);
      if (!base) return undefined;
      const name = `${base.id}\n${purpose}`;
      let value = sealing.get(name);
      if (!value) {
        value = derive(base.key, `aes:${purpose}`);
        sealing.set(name, value);
      }
      return { id: base.id, key: await value };
    },
  };
}
