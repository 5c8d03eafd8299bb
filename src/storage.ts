import { TableClient } from '@azure/data-tables';
import { type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';

import { type StorageConfig } from './config';

/**
 * Azure Storage clients for the app's own tables, queues and containers: Azurite by connection
 * string locally, the managed identity in Azure. Each resource is created once, on first use.
 */
export interface StorageClients {
  table(name: string): Promise<TableClient>;
  queue(name: string): Promise<QueueClient>;
  container(name: string): Promise<ContainerClient>;
}

function once<T>(make: (name: string) => Promise<T>): (name: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>();
  return (name) => {
    let pending = cache.get(name);
    if (!pending) {
      pending = make(name);
      cache.set(name, pending);
      pending.catch(() => cache.delete(name)); // a failed create is tried again next time
    }
    return pending;
  };
}

function isHttpEndpoint(connectionString: string): boolean {
  return (
    /Endpoint=http:\/\//i.test(connectionString) ||
    /UseDevelopmentStorage=true/i.test(connectionString)
  );
}

export function createStorageClients(
  storage: StorageConfig,
  credential: () => TokenCredential,
): StorageClients {
  const tableClient = (name: string): TableClient =>
    storage.kind === 'connectionString'
      ? TableClient.fromConnectionString(storage.connectionString, name, {
          allowInsecureConnection: isHttpEndpoint(storage.connectionString),
        })
      : new TableClient(storage.tableUrl, name, credential());
  const queueService = (): QueueServiceClient =>
    storage.kind === 'connectionString'
      ? QueueServiceClient.fromConnectionString(storage.connectionString)
      : new QueueServiceClient(storage.queueUrl, credential());
  const blobService = (): BlobServiceClient =>
    storage.kind === 'connectionString'
      ? BlobServiceClient.fromConnectionString(storage.connectionString)
      : new BlobServiceClient(storage.blobUrl, credential());

  return {
    table: once(async (name) => {
      const client = tableClient(name);
      await client.createTable(); // idempotent: an existing table is not an error
      return client;
    }),
    queue: once(async (name) => {
      const client = queueService().getQueueClient(name);
      await client.createIfNotExists();
      return client;
    }),
    container: once(async (name) => {
      const client = blobService().getContainerClient(name);
      await client.createIfNotExists();
      return client;
    }),
  };
}
