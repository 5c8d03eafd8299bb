import { isErrorOf, NotFoundError } from '../../core/errors';
import { storageErrorCode, storageStatus, storageUnavailable } from '../../storage';

/** What the bulk tables' records share: the entity shape as read, and storage errors. */

export type Entity = Record<string, unknown> & {
  etag: string;
  rowKey?: string;
  partitionKey?: string;
};

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Someone else changed (or created) the entity first: an ETag or existence precondition failed. */
export function isConflict(error: unknown): boolean {
  const code = storageErrorCode(error);
  return (
    code === 'UpdateConditionNotSatisfied' ||
    code === 'EntityAlreadyExists' ||
    storageStatus(error) === 412
  );
}

export const isNotFound = (error: unknown): boolean =>
  storageErrorCode(error) === 'ResourceNotFound';

/** Runs a storage step; anything but a NotFoundError is the store being unavailable (503). */
export async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) throw error;
    throw storageUnavailable(what, error);
  }
}
