import { type QueueClient } from '@azure/storage-queue';
import * as z from 'zod';

import { idSchema } from '../../core/validators';

/**
 * Queue messages of batch jobs: which job to run, nothing else (the job is in its table). Text is
 * base64 JSON, which is what the Functions queue trigger decodes.
 */

export const BATCH_QUEUE = 'message-batch';
export const BATCH_POISON_QUEUE = `${BATCH_QUEUE}-poison`;

export const batchMessageSchema = z.strictObject({
  v: z.literal(1),
  s: idSchema,
  c: idSchema,
  j: idSchema,
});

export type BatchJobMessage = z.output<typeof batchMessageSchema>;

export interface BatchJobQueue {
  /** Enqueues a run of the job, invisible for `delayMs`. */
  enqueue(message: BatchJobMessage, delayMs?: number): Promise<void>;
}

export function createBatchJobQueue(queue: () => Promise<QueueClient>): BatchJobQueue {
  return {
    async enqueue(message, delayMs = 0) {
      await (
        await queue()
      ).sendMessage(Buffer.from(JSON.stringify(message), 'utf8').toString('base64'), {
        visibilityTimeout: Math.ceil(Math.max(0, delayMs) / 1000),
        messageTimeToLive: -1,
      });
    },
  };
}
