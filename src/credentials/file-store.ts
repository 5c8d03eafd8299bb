import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { ConfigError, NotFoundError, ValidationError } from '../core/errors';
import {
  MAX_SECRET_VALUE_BYTES,
  SECRET_NAME,
  type SecretProperties,
  type SecretStore,
  type StoredSecret,
} from './store';

interface FileEntry {
  name: string;
  version: string;
  value: string;
  tags: Record<string, string>;
  contentType?: string;
  enabled: boolean;
  updatedOn: string;
}

/**
 * Dev-only store: one 0600 JSON file per secret under `{localDataDir}/secrets/`, holding the latest
 * version only (values are already encrypted envelopes). Refuses to run in production, where
 * KEY_VAULT_URL is required.
 */
export function createFileSecretStore(options: {
  dir: string;
  isProduction: boolean;
}): SecretStore {
  if (options.isProduction) {
    throw new ConfigError([
      { path: 'KEY_VAULT_URL', message: 'is required in production (the file store is dev only)' },
    ]);
  }
  const dir = path.join(options.dir, 'secrets');
  const fileFor = (name: string) => {
    if (!SECRET_NAME.test(name)) throw new Error(`invalid secret name ${name}`);
    return path.join(dir, `${name.toLowerCase()}.json`);
  };

  async function read(name: string): Promise<FileEntry | undefined> {
    try {
      return JSON.parse(await readFile(fileFor(name), 'utf8')) as FileEntry;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  const toSecret = (e: FileEntry): StoredSecret => ({
    ...e,
    updatedOn: new Date(e.updatedOn),
    ...(e.contentType === undefined ? {} : { contentType: e.contentType }),
  });
  const props = (e: FileEntry): SecretProperties => {
    const { value: _value, ...rest } = toSecret(e);
    return rest;
  };

  return {
    kind: 'file',
    async get(name) {
      const entry = await read(name);
      return entry?.enabled ? toSecret(entry) : undefined;
    },
    async getAllVersions(name) {
      const entry = await read(name);
      return entry ? [toSecret(entry)] : [];
    },
    async set(name, value, opts = {}) {
      if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_VALUE_BYTES) {
        throw new ValidationError({
          path: 'record',
          message: `exceeds the ${MAX_SECRET_VALUE_BYTES}-byte secret limit`,
        });
      }
      if (opts.mustExist && !(await read(name))) throw new NotFoundError(`Secret ${name}`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const entry: FileEntry = {
        name,
        version: randomBytes(16).toString('hex'),
        value,
        tags: opts.tags ?? {},
        ...(opts.contentType === undefined ? {} : { contentType: opts.contentType }),
        enabled: true,
        updatedOn: new Date().toISOString(),
      };
      const file = fileFor(name);
      const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' });
      await rename(tmp, file);
      return props(entry);
    },
    async list(tags) {
      let files: string[];
      try {
        files = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const out: SecretProperties[] = [];
      for (const file of files.filter((f) => f.endsWith('.json'))) {
        const entry = await read(file.slice(0, -'.json'.length)).catch(() => undefined);
        if (entry && Object.entries(tags).every(([k, v]) => entry.tags[k] === v)) {
          out.push(props(entry));
        }
      }
      return out;
    },
    async disableVersion() {
      // Only the latest version is kept; nothing older to disable.
    },
    async delete(name) {
      try {
        await unlink(fileFor(name));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
  };
}
