import { InvalidCursorError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type BulkDependencies } from './dependencies';
import { type JobHeader, type RecipientRow } from './store';

/**
 * A job's per-recipient results, a page at a time in recipient order, behind an opaque cursor
 * bound to the job. Sent rows awaiting message ids have them looked up on the way (`sent-ids.ts`).
 */

/** One recipient's result; a sent one carries its send and what is known of its message ids. */
export interface ResultRow {
  index: number;
  to: string;
  status: string;
  sendId?: string;
  sentAt?: string;
  messageId?: string | null;
  internetMessageId?: string | null;
  /** False while the ids are still awaited from the Sent Items copy (read again later). */
  resolved?: boolean;
  error?: string;
}

export interface ReadOptions {
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export function resultRow(row: RecipientRow): ResultRow {
  const sent = row.state === 'sent';
  return {
    index: row.index,
    to: row.to,
    status: row.state,
    ...(sent && row.sendId !== undefined ? { sendId: row.sendId } : {}),
    ...(sent && row.sentAt !== undefined ? { sentAt: new Date(row.sentAt).toISOString() } : {}),
    ...(sent
      ? {
          messageId: row.messageId ?? null,
          internetMessageId: row.internetMessageId ?? null,
          resolved: row.idsResolved,
        }
      : {}),
    ...(row.error ? { error: row.error } : {}),
  };
}

export function encodeCursor(jobId: string, index: number): string {
  return Buffer.from(JSON.stringify({ j: jobId, i: index })).toString('base64url');
}

/** The index a cursor continues from; 400 invalid_cursor for another job's cursor or junk. */
export function decodeCursor(jobId: string, cursor: string): number {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      j?: unknown;
      i?: unknown;
    };
    if (value.j === jobId && Number.isInteger(value.i) && (value.i as number) >= 0)
      return value.i as number;
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursorError('The cursor was not issued for this bulk send or has been altered.');
}

/**
 * One page of results. With `options` the ids of sent rows of the page are looked up (a few per
 * read); without, only storage is read.
 */
export async function readResults(
  deps: Pick<BulkDependencies, 'store' | 'sentIds'>,
  header: JobHeader,
  page: { cursor?: string; top: number },
  options?: ReadOptions,
): Promise<{ results: ResultRow[]; nextCursor: string | null }> {
  const from = page.cursor ? decodeCursor(header.jobId, page.cursor) : 0;
  const rows = await deps.store.page(header.jobId, from, page.top + 1);
  const more = rows.length > page.top;
  let shown = rows.slice(0, page.top);
  if (options && deps.sentIds) {
    const key = { serviceId: header.serviceId, credentialId: header.credentialId };
    shown = await deps.sentIds(key, shown, options);
  }
  return {
    results: shown.map(resultRow),
    nextCursor: more ? encodeCursor(header.jobId, rows[page.top]!.index) : null,
  };
}
