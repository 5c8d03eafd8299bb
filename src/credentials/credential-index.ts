import { type TableClient } from '@azure/data-tables';

import { azureSdk } from '../core/azure-sdk';
import { type StorageClients, storageStatus, storageUnavailable } from '../storage';
import { type SetSecretOptions, type StoreOptions } from './store';
import { type CredentialKey } from './types';

export const CREDENTIAL_INDEX_TABLE = 'credentialindex';
/** Not a service id (ids never hold `~`): the row saying the index holds every record. */
const MARKER = { partitionKey: '~index', rowKey: 'built' } as const;
/** Table calls in flight while the index is built from a full listing. */
const BUILD_CONCURRENCY = 8;

/**
 * Which credentials each service has, with their tags, in Table storage (one partition per
 * service). Key Vault cannot filter a listing: without this, one service's `GET credentials`
 * pages through every secret of every service and spends the whole vault's request budget.
 */
export interface CredentialIndex {
  /** Tags of every credential of the service; undefined until the index has been built. */
  list(
    serviceId: string,
    options?: StoreOptions,
  ): Promise<Array<Record<string, string>> | undefined>;
  /**
   * Records a credential's current tags (they hold its service and credential id). With
   * `mustExist` (a token rotation) it only updates an entry: a delete's tombstone stays.
   */
  put(
    tags: Record<string, string>,
    options?: Pick<SetSecretOptions, 'abortSignal' | 'mustExist'>,
  ): Promise<void>;
  remove(key: CredentialKey, options?: StoreOptions): Promise<void>;
  /**
   * Once per store: adds what a full listing of the vault found (records written before the index
   * existed), never over an entry a write made meanwhile, then marks the index built.
   */
  build(found: Array<Record<string, string>>, options?: StoreOptions): Promise<void>;
}

interface IndexEntity {
  partitionKey: string;
  rowKey: string;
  /** JSON of the record's tags; empty in a tombstone. */
  tags: string;
  /**
   * A deleted credential stays as a tombstone, so that a build racing the delete (it listed the
   * vault before) cannot add it back; a new record with the same ids replaces it.
   */
  deleted?: boolean;
}

const sig = (options: StoreOptions) =>
  options.abortSignal ? { abortSignal: options.abortSignal } : {};

/** Rounds of read-and-write when other writers keep changing the entry under a rotation. */
const UPDATE_ROUNDS = 3;

/**
 * A rotation's write: replaces the entry under its ETag, or creates it when there is none (a
 * record from before the index), and leaves a tombstone alone. A rotation that wrote the vault
 * just before a delete reaches the index after the delete's tombstone; replacing it blindly
 * listed the deleted credential again.
 */
async function updateLive(
  client: TableClient,
  entity: IndexEntity,
  options: StoreOptions,
): Promise<void> {
  for (let round = 1; ; round++) {
    let current: IndexEntity & { etag: string };
    try {
      current = await client.getEntity<IndexEntity>(
        entity.partitionKey,
        entity.rowKey,
        sig(options),
      );
    } catch (error) {
      if (storageStatus(error) !== 404) throw error;
      try {
        return void (await client.createEntity(entity, sig(options)));
      } catch (createError) {
        if (storageStatus(createError) !== 409 || round >= UPDATE_ROUNDS) throw createError;
        continue;
      }
    }
    if (current.deleted) return;
    try {
      return void (await client.updateEntity(entity, 'Replace', {
        ...sig(options),
        etag: current.etag,
      }));
    } catch (error) {
      if (storageStatus(error) !== 412 || round >= UPDATE_ROUNDS) throw error;
    }
  }
}

export function createTableCredentialIndex(storage: StorageClients): CredentialIndex {
  const table = () => storage.table(CREDENTIAL_INDEX_TABLE);
  let built = false;
  const entityOf = (tags: Record<string, string>): IndexEntity => ({
    partitionKey: tags.serviceId!,
    rowKey: tags.credentialId!,
    tags: JSON.stringify(tags),
  });

  async function isBuilt(options: StoreOptions): Promise<boolean> {
    if (built) return true;
    try {
      await (await table()).getEntity(MARKER.partitionKey, MARKER.rowKey, sig(options));
      return (built = true);
    } catch (error) {
      if (storageStatus(error) === 404) return false;
      throw storageUnavailable('reading the credential index', error);
    }
  }

  return {
    async list(serviceId, options = {}) {
      if (!(await isBuilt(options))) return undefined;
      const found: Array<Record<string, string>> = [];
      try {
        const entities = (await table()).listEntities<IndexEntity>({
          queryOptions: { filter: azureSdk.dataTables().odata`PartitionKey eq ${serviceId}` },
          ...sig(options),
        });
        for await (const entity of entities) {
          if (!entity.deleted) found.push(JSON.parse(entity.tags) as Record<string, string>);
        }
      } catch (error) {
        throw storageUnavailable('listing the credential index', error);
      }
      return found;
    },
    async put(tags, options = {}) {
      try {
        const client = await table();
        if (!options.mustExist) {
          return void (await client.upsertEntity(entityOf(tags), 'Replace', sig(options)));
        }
        await updateLive(client, entityOf(tags), options);
      } catch (error) {
        throw storageUnavailable('updating the credential index', error);
      }
    },
    async remove(key, options = {}) {
      const tombstone: IndexEntity = {
        partitionKey: key.serviceId,
        rowKey: key.credentialId,
        tags: '',
        deleted: true,
      };
      try {
        await (await table()).upsertEntity(tombstone, 'Replace', sig(options));
      } catch (error) {
        throw storageUnavailable('updating the credential index', error);
      }
    },
    async build(found, options = {}) {
      if (await isBuilt(options)) return;
      const client = await table();
      const pending = found.filter((tags) => tags.serviceId && tags.credentialId);
      const worker = async () => {
        for (let tags = pending.pop(); tags; tags = pending.pop()) {
          try {
            await client.createEntity(entityOf(tags), sig(options));
          } catch (error) {
            // 409: a write indexed this credential meanwhile (newer tags), or a delete did.
            if (storageStatus(error) !== 409) {
              throw storageUnavailable('building the credential index', error);
            }
          }
        }
      };
      await Promise.all(Array.from({ length: BUILD_CONCURRENCY }, worker));
      try {
        await client.upsertEntity({ ...MARKER, builtAt: Date.now() }, 'Replace', sig(options));
      } catch (error) {
        throw storageUnavailable('building the credential index', error);
      }
      built = true;
    },
  };
}
