import { type TableClient } from '@azure/data-tables';
import { type TokenCredential } from '@azure/identity';
import { type BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { type QueueClient, type QueueServiceClient } from '@azure/storage-queue';

import { type StorageConfig } from './config';
import { azureSdk } from './core/azure-sdk';
import { isErrorOf, UpstreamError } from './core/errors';

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
      ? azureSdk.dataTables().TableClient.fromConnectionString(storage.connectionString, name, {
          allowInsecureConnection: isHttpEndpoint(storage.connectionString),
        })
      : new (azureSdk.dataTables().TableClient)(storage.tableUrl, name, credential());
  const queueService = (): QueueServiceClient =>
    storage.kind === 'connectionString'
      ? azureSdk.storageQueue().QueueServiceClient.fromConnectionString(storage.connectionString)
      : new (azureSdk.storageQueue().QueueServiceClient)(storage.queueUrl, credential());
  const blobService = (): BlobServiceClient =>
    storage.kind === 'connectionString'
      ? azureSdk.storageBlob().BlobServiceClient.fromConnectionString(storage.connectionString)
      : new (azureSdk.storageBlob().BlobServiceClient)(storage.blobUrl, credential());

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

/** The service's error code of an Azure Storage error (data-tables puts it in `details.errorCode`). */
export function storageErrorCode(error: unknown): string | undefined {
  const e = error as { details?: { errorCode?: unknown }; code?: unknown; statusCode?: unknown };
  if (typeof e?.details?.errorCode === 'string') return e.details.errorCode;
  if (typeof e?.code === 'string') return e.code;
  return undefined;
}

/** The HTTP status of a failed Azure SDK call (RestError), when it got an answer. */
export function storageStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The storage clients, or the same 503 (`store_unavailable`) wherever a feature needs storage that
 * is not configured (unit tests run without it).
 */
export function requireStorage(storage: StorageClients | undefined, what: string): StorageClients {
  if (!storage) {
    throw new UpstreamError(
      'store_unavailable',
      `${what} need AzureWebJobsStorage, which is not configured.`,
    );
  }
  return storage;
}

/** A storage failure a caller cannot fix; 503 at the edge. */
export function storageUnavailable(what: string, cause: unknown): UpstreamError {
  // Storage that is not configured says so, whichever store found out.
  if (isErrorOf(cause, UpstreamError) && cause.code === 'store_unavailable') return cause;
  return new UpstreamError('store_unavailable', `Storage failed while ${what}.`, { cause });
}

/** A queue of small JSON messages (keys only; state lives in tables). */
export interface JsonQueue<M> {
  /** Enqueues `message`, invisible for `delayMs` (rounded up to whole seconds, at most 6 days). */
  enqueue(message: M, delayMs?: number): Promise<void>;
}

// Storage queues cap visibility at 7 days; later work re-checks and waits again.
const MAX_VISIBILITY_S = 6 * 24 * 3600;

/**
 * Base64 JSON text, which is what the Functions queue trigger decodes, kept until it is handled
 * (no time to live). Rounding the delay up means a message is never visible early.
 */
export function createJsonQueue<M>(queue: () => Promise<QueueClient>): JsonQueue<M> {
  return {
    async enqueue(message, delayMs = 0) {
      const text = Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
      await (
        await queue()
      ).sendMessage(text, {
        visibilityTimeout: Math.min(MAX_VISIBILITY_S, Math.ceil(Math.max(0, delayMs) / 1000)),
        messageTimeToLive: -1,
      });
    },
  };
}
