import { isErrorOf, NotFoundError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type BulkMessage } from './queue';
import { type BulkStore, type JobHeader } from './store';

/**
 * Gives up on a message the host could not process (`bulk-send-poison`): a dispatch fails its job
 * as a whole and every recipient not yet sent; a send fails its recipient, with the last error.
 */
export async function giveUp(
  message: BulkMessage,
  deps: { store: BulkStore; sweep: (header: JobHeader, log: Logger) => Promise<void> },
  log: Logger,
): Promise<void> {
  const { store } = deps;
  let header: JobHeader;
  try {
    header = await store.header(message.s, message.j);
  } catch (error) {
    if (isErrorOf(error, NotFoundError)) return;
    throw error;
  }
  if (message.k === 'dispatch') {
    if (header.status !== 'cancelled' && header.status !== 'failed') {
      await store.updateHeader(header, {
        status: 'failed',
        reason: 'the job could not be dispatched (repeated worker failures)',
      });
    }
    const failed = await store.header(message.s, message.j);
    if (failed.status === 'failed' || failed.status === 'cancelled') await deps.sweep(failed, log);
    return;
  }
  const row = await store.recipient(message.j, message.i);
  const last = row.error ? `; last error: ${row.error}` : '';
  await store.finish(row.jobId, [row], ['queued', 'sending'], 'failed', {
    error: `gave up after repeated worker failures${last}`,
  });
  log.error('bulk recipient failed after poison', { jobId: message.j, index: message.i });
}
