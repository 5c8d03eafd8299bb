import { hkdf, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { type Logger } from '../core/logger';
import { type DataKey } from './envelope';
import { type SecretStore } from './store';
import { type AppKeys } from './types';

/**
 * The data key ring: every key ever used (to decrypt old records) and the current one (to encrypt).
 * In Azure it is a Key Vault secret created on first use; locally `{localDataDir}/data-key.json`
 * (0600). Rotation adds a key and makes it current; records are re-encrypted on their next write.
 */
export interface DataKeyRing {
  current(): Promise<DataKey>;
  find(id: string): Promise<DataKey | undefined>;
  rotate(): Promise<DataKey>;
}

interface RingFile {
  v: 1;
  current: string;
  keys: Array<{ id: string; key: string; createdAt: string }>;
}

export const DATA_KEY_SECRET = 'app-data-key';
const RELOAD_MIN_INTERVAL_MS = 10_000;

function newKey(): RingFile['keys'][number] {
  const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  return {
    id: `k${stamp}-${randomBytes(4).toString('hex')}`,
    key: randomBytes(32).toString('base64'),
    createdAt: new Date().toISOString(),
  };
}

function parseRing(text: string): RingFile {
  const ring = JSON.parse(text) as RingFile;
  if (ring?.v !== 1 || typeof ring.current !== 'string' || !Array.isArray(ring.keys)) {
    throw new Error('the data key ring has an unknown format');
  }
  return ring;
}

interface RingSource {
  /** Every ring version known, newest (authoritative for `current`) first; [] when none exists. */
  load(): Promise<RingFile[]>;
  save(ring: RingFile): Promise<void>;
  /** First write; a concurrent creator that got there first wins. */
  create(ring: RingFile): Promise<void>;
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
      return [latest, ...all.filter((v) => v.version !== latest.version)].map((v) =>
        parseRing(v.value),
      );
    },
    save,
    create: save,
  };
}

function createRing(source: RingSource): DataKeyRing {
  let state:
    Promise<{ current: DataKey; keys: Map<string, DataKey>; loadedAt: number }> | undefined;

  async function load() {
    let rings = await source.load();
    if (rings.length === 0) {
      const key = newKey();
      await source.create({ v: 1, current: key.id, keys: [key] });
      rings = await source.load();
    }
    const keys = new Map<string, DataKey>();
    for (const ring of rings) {
      for (const k of ring.keys) keys.set(k.id, { id: k.id, key: Buffer.from(k.key, 'base64') });
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
      const rings = await source.load();
      const keys = new Map<string, RingFile['keys'][number]>();
      for (const ring of rings) for (const k of ring.keys) keys.set(k.id, k);
      const key = newKey();
      keys.set(key.id, key);
      await source.save({ v: 1, current: key.id, keys: [...keys.values()] });
      state = undefined;
      return (await loaded()).current;
    },
  };
}

export function createFileDataKeyRing(dir: string, log?: Logger): DataKeyRing {
  return createRing(fileSource(dir, log));
}

export function createSecretDataKeyRing(store: SecretStore): DataKeyRing {
  return createRing(secretSource(store));
}

/** HMAC keys per purpose, derived with HKDF-SHA256 from the current data key. */
export function createAppKeys(ring: DataKeyRing): AppKeys {
  const cache = new Map<string, { keyId: string; value: Promise<Buffer> }>();
  return {
    async hmacKey(purpose) {
      const current = await ring.current();
      const hit = cache.get(purpose);
      if (hit && hit.keyId === current.id) return hit.value;
      const value = new Promise<Buffer>((resolve, reject) =>
        hkdf('sha256', current.key, 'outlook-mail-functions', `hmac:${purpose}`, 32, (e, k) =>
          e ? reject(e) : resolve(Buffer.from(k)),
        ),
      );
      cache.set(purpose, { keyId: current.id, value });
      return value;
    },
  };
}
