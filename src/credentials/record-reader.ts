import { AppError, isErrorOf } from '../core/errors';
import { type Logger } from '../core/logger';
import { RecordUnreadableError } from './envelope';
import { type RecordRepository, type StoredRecord } from './record';
import { dropDeleted, type TokenEntry } from './token-entry';
import { type CredentialKey, keyString } from './types';

export interface UnreadableRecord {
  serviceId: string;
  credentialId: string;
  reason: string;
  at: number;
}

export interface RecordReader {
  /** The entry's current record; NotFoundError (and the entry cleared) once it is deleted. */
  read(e: TokenEntry): Promise<StoredRecord>;
  /** Records that could not be decrypted in this process (reported by health, never overwritten). */
  unreadable(): UnreadableRecord[];
  forget(key: CredentialKey): void;
}

/**
 * The token manager's reads of the store. A record that cannot be decrypted is an internal error
 * for the caller, logged and remembered for health, and left untouched: it is never overwritten.
 */
export function createRecordReader(
  repo: Pick<RecordRepository, 'read'>,
  log: Logger,
): RecordReader {
  const unreadable = new Map<string, UnreadableRecord>();
  return {
    async read(e) {
      let stored;
      try {
        stored = await repo.read(e.key);
      } catch (error) {
        if (!isErrorOf(error, RecordUnreadableError)) throw error;
        unreadable.set(keyString(e.key), { ...e.key, reason: error.message, at: Date.now() });
        log.error('credential record cannot be decrypted; it is left untouched', {
          ...e.key,
          reason: error.message,
          keyId: error.keyId,
        });
        throw new AppError(
          'internal',
          `The record of credential ${e.key.credentialId} cannot be decrypted.`,
          { cause: error },
        );
      }
      if (!stored) throw dropDeleted(e);
      unreadable.delete(keyString(e.key));
      return stored;
    },
    unreadable: () => [...unreadable.values()],
    forget: (key) => void unreadable.delete(keyString(key)),
  };
}
