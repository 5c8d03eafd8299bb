import { type QueueClient } from '@azure/storage-queue';
import * as z from 'zod';

import { idSchema } from '../../core/validators';

/**
 * Queue messages of bulk jobs: small on purpose (ids and one index), everything else is in tables.
 * `dispatch` reserves send slots for the next recipients of a job and enqueues one `send` per
 * recipient, visible at its slot; `send` sends one recipient. Text is base64 JSON, which is what the
 * Functions queue trigger decodes.
 */

export const BULK_QUEUE = 'bulk-send';
export const BULK_POISON_QUEUE = `${BULK_QUEUE}-poison`;

const id = idSchema;

export const bulkMessageSchema = z.discriminatedUnion('k', [
  z.strictObject({ v: z.literal(1), k: z.literal('dispatch'), s: id, j: id }),
  z.strictObject({
    v: z.literal(1),
    k: z.literal('send'),
    s: id,
    j: id,
    i: z.number().int().nonnegative(),
    /** Reserved slot (epoch ms): the message is not sent before it. */
    at: z.number().nonnegative(),
  }),
]);

export type BulkMessage = z.output<typeof bulkMessageSchema>;

// Storage queues cap visibility at 7 days; stay below it and re-check later for far schedules.
export const MAX_DELAY_MS = 6 * 24 * 3600_000;

export interface BulkQueue {
  /** Enqueues a message, invisible until `notBefore` (epoch ms; rounded up to whole seconds). */
  enqueue(message: BulkMessage, notBefore?: number): Promise<void>;
}

export function encodeMessage(message: BulkMessage): string {
  return Buffer.from(JSON.stringify(message), 'utf8').toString('base64');
}

export function createBulkQueue(queue: () => Promise<QueueClient>, now = Date.now): BulkQueue {
  return {
    async enqueue(message, notBefore) {
      const delayMs = Math.min(Math.max(0, (notBefore ?? 0) - now()), MAX_DELAY_MS);
      // Rounding up means a message is never visible before its slot, only up to a second late.
      await (
        await queue()
      ).sendMessage(encodeMessage(message), {
        visibilityTimeout: Math.ceil(delayMs / 1000),
        messageTimeToLive: -1,
      });
    },
  };
}
