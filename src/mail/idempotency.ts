import { createHash } from 'node:crypto';

import { type TableClient } from '@azure/data-tables';

import { ConflictError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';
import { remainingMs, sleep } from '../core/abort';
import { storageStatus, storageUnavailable } from '../storage';

/**
 * Idempotency keys in Azure Table Storage. A key is claimed by an insert that fails when the row
 * exists (409), so exactly one request does the work; repeats with the same fingerprint wait for
 * it and replay its answer, repeats with another fingerprint are conflicts. Rows live 24 h.
 */

export const IDEMPOTENCY_TABLE = 'idempotency';
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Printable ASCII, 1–200 characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]{0,198}[\x21-\x7e])?$/;

/** The first attempt stopped (crashed) after its irreversible step had begun. */
export interface TakenOver {
  committed: boolean;
  /** What the first attempt noted when it committed (the send id). */
  note: string | undefined;
}

export interface IdempotencyClaim<T> {
  /** Records that the irreversible step is about to start, with a note for a later takeover. */
  commit(note: string): Promise<void>;
  /** Stores the answer that repeats will get. */
  complete(value: T): Promise<void>;
  /** Forgets the key so a corrected retry can use it (the attempt definitely did nothing). */
  release(): Promise<void>;
}

export type BeginResult<T> =
  | { kind: 'claimed'; claim: IdempotencyClaim<T>; takenOver?: TakenOver }
  | { kind: 'replay'; value: T };

export interface BeginOptions {
  /** The claimer's budget: its claim's lease lasts as long (at most `maxLeaseMs`). */
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export interface IdempotencyStore<T> {
  begin(
    scope: CredentialKey,
    key: string,
    fingerprint: string,
    options: BeginOptions,
  ): Promise<BeginResult<T>>;
}

export interface IdempotencyStoreOptions {
  table: () => Promise<TableClient>;
  ttlMs?: number;
  /** How often a repeat checks whether the first attempt finished. */
  pollMs?: number;
  /** A claim's lease outlives the claimer's budget by this much (clock skew, slow storage). */
  leaseGraceMs?: number;
  /** The lease of a claimer whose signal carries no budget (default 10 min). */
  maxLeaseMs?: number;
  now?: () => number;
}

interface Row {
  partitionKey: string;
  rowKey: string;
  fingerprint: string;
  state: 'pending' | 'done';
  leaseUntil: number;
  expiresAt: number;
  committed: boolean;
  note?: string;
  value?: string;
}

/** Table keys may not contain `/`, `\`, `#`, `?`; the caller's key is hashed into the row key. */
function rowKeys(scope: CredentialKey, key: string): { partitionKey: string; rowKey: string } {
  return {
    partitionKey: `${scope.serviceId}:${scope.credentialId}`,
    rowKey: createHash('sha256').update(key, 'utf8').digest('hex'),
  };
}

export function createIdempotencyStore<T>(options: IdempotencyStoreOptions): IdempotencyStore<T> {
  const ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
  const pollMs = options.pollMs ?? 250;
  const graceMs = options.leaseGraceMs ?? 30_000;
  const maxLeaseMs = options.maxLeaseMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;

  function claimFor(table: TableClient, keys: Row, firstEtag: string): IdempotencyClaim<T> {
    let etag = firstEtag;
    const merge = async (fields: Partial<Row>) => {
      try {
        const result = await table.updateEntity({ ...keys, ...fields }, 'Merge', { etag });
        etag = result.etag ?? etag;
      } catch (error) {
        if (storageStatus(error) === 412) {
          throw new ConflictError(
            'conflict',
            'Another request took over this Idempotency-Key while this one was still running.',
          );
        }
        throw storageUnavailable('using the idempotency store', error);
      }
    };
    return {
      commit: (note) => merge({ committed: true, note }),
      complete: (value) => merge({ state: 'done', value: JSON.stringify(value) }),
      async release() {
        try {
          await table.deleteEntity(keys.partitionKey, keys.rowKey, { etag });
        } catch (error) {
          if (storageStatus(error) !== 404)
            throw storageUnavailable('using the idempotency store', error);
        }
      },
    };
  }

  return {
    async begin(scope, key, fingerprint, { abortSignal, log }) {
      let table: TableClient;
      try {
        table = await options.table();
      } catch (error) {
        throw storageUnavailable('using the idempotency store', error);
      }
      const keys = rowKeys(scope, key);
      for (;;) {
        const at = now();
        const fresh: Row = {
          ...keys,
          fingerprint,
          state: 'pending',
          leaseUntil: at + Math.min(remainingMs(abortSignal), maxLeaseMs) + graceMs,
          expiresAt: at + ttlMs,
          committed: false,
        };
        try {
          const created = await table.createEntity(fresh);
          return { kind: 'claimed', claim: claimFor(table, fresh, created.etag ?? '*') };
        } catch (error) {
          if (storageStatus(error) !== 409)
            throw storageUnavailable('using the idempotency store', error);
        }

        let existing: Row & { etag: string };
        try {
          existing = await table.getEntity<Row>(keys.partitionKey, keys.rowKey);
        } catch (error) {
          if (storageStatus(error) === 404) continue; // released meanwhile: claim it again
          throw storageUnavailable('using the idempotency store', error);
        }
        if (existing.expiresAt <= at) {
          await table
            .deleteEntity(keys.partitionKey, keys.rowKey, { etag: existing.etag })
            .catch((error: unknown) => {
              if (storageStatus(error) !== 404 && storageStatus(error) !== 412)
                throw storageUnavailable('using the idempotency store', error);
            });
          continue;
        }
        if (existing.fingerprint !== fingerprint) {
          throw new ConflictError(
            'idempotency_conflict',
            'This Idempotency-Key was already used with a different request body.',
          );
        }
        if (existing.state === 'done' && existing.value !== undefined) {
          return { kind: 'replay', value: JSON.parse(existing.value) as T };
        }
        if (existing.leaseUntil <= at) {
          // The first attempt died without answering; take its row over (etag: one winner).
          const takeover: Row = {
            ...keys,
            fingerprint,
            state: 'pending',
            leaseUntil: fresh.leaseUntil,
            expiresAt: existing.expiresAt,
            committed: existing.committed,
            ...(existing.note === undefined ? {} : { note: existing.note }),
          };
          try {
            const updated = await table.updateEntity(takeover, 'Replace', {
              etag: existing.etag,
            });
            log.warn('idempotency key taken over from a stale attempt', {
              committed: existing.committed,
            });
            return {
              kind: 'claimed',
              claim: claimFor(table, takeover, updated.etag ?? '*'),
              takenOver: { committed: existing.committed, note: existing.note },
            };
          } catch (error) {
            if (storageStatus(error) === 412 || storageStatus(error) === 404) continue;
            throw storageUnavailable('using the idempotency store', error);
          }
        }
        if (remainingMs(abortSignal) <= pollMs) {
          throw new ConflictError(
            'conflict',
            'A request with this Idempotency-Key is still being processed; repeat it later to get its result.',
          );
        }
        await sleep(pollMs, abortSignal);
      }
    },
  };
}
