import { type QueueClient } from '@azure/storage-queue';
import * as z from 'zod';

import { idSchema } from '../../core/validators';
import { createJsonQueue, type JsonQueue } from '../../storage';

/**
 * Queue messages of batch jobs: which job to run, nothing else (the job is in its table).
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

export type BatchJobQueue = JsonQueue<BatchJobMessage>;

export function createBatchJobQueue(queue: () => Promise<QueueClient>): BatchJobQueue {
  return createJsonQueue(queue);
}
