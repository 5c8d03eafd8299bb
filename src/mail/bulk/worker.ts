import { type Logger } from '../../core/logger';
import { createDispatcher } from './dispatch';
import { type BulkDependencies } from './dependencies';
import { createMessageBuilder } from './message';
import { giveUp } from './poison';
import { type BulkMessage, bulkMessageSchema } from './queue';
import { createRowSender } from './send-row';

/**
 * The queue side of bulk jobs. Every step is safe to run twice or concurrently: recipient rows
 * move `queued → sending → sent|failed|skipped` only under their ETag, a `sending` row is owned by
 * one worker until its lease runs out, and the send carries an idempotency key per job and
 * recipient, so a worker that dies after Graph accepted a message cannot send it twice.
 * The stages: `dispatch.ts` (slots, sweep), `message.ts` (one row's message), `send-row.ts` (send,
 * retry, pause; `failure.ts` decides which), `poison.ts` (give up).
 */
export interface BulkWorker {
  handle(message: unknown, options: { log: Logger }): Promise<void>;
  /** For messages the host gave up on (`bulk-send-poison`): the recipient fails with a reason. */
  handlePoison(message: unknown, options: { log: Logger }): Promise<void>;
}

export function createBulkWorker(deps: BulkDependencies): BulkWorker {
  const dispatcher = createDispatcher(deps);
  const send = createRowSender(
    deps,
    createMessageBuilder({
      store: deps.store,
      attachments: deps.attachments,
      maxMessageBytes: deps.settings.maxMessageBytes,
    }),
  );

  function parse(message: unknown): BulkMessage {
    const result = bulkMessageSchema.safeParse(message);
    if (!result.success)
      throw new Error(`not a bulk-send message: ${result.error.issues[0]?.message ?? 'invalid'}`);
    return result.data;
  }

  return {
    async handle(raw, { log }) {
      const message = parse(raw);
      const scoped = log.child({
        jobId: message.j,
        ...(message.k === 'send' ? { index: message.i } : {}),
      });
      if (message.k === 'dispatch') return dispatcher.dispatch(message, scoped);
      return send(message, scoped);
    },

    async handlePoison(raw, { log }) {
      const result = bulkMessageSchema.safeParse(raw);
      if (!result.success) {
        log.error('unreadable poison message dropped', { issue: result.error.issues[0]?.message });
        return;
      }
      await giveUp(
        result.data,
        { store: deps.store, sweep: (h, l) => dispatcher.sweep(h, l) },
        log,
      );
    },
  };
}
