import { type QueueFunctionDefinition } from '../http/definitions';
import { type BatchJobs } from '../mail/message-batch/jobs';
import { BATCH_POISON_QUEUE, BATCH_QUEUE } from '../mail/message-batch/queue';

/**
 * The batch-job queue and its poison queue. The host retries a failing message up to 5 times and
 * then moves it to `message-batch-poison`, where the job and its messages not yet done fail.
 */
export function batchWorkerFunctions(jobs: BatchJobs): QueueFunctionDefinition[] {
  return [
    {
      kind: 'queue',
      name: 'messageBatchJob',
      queueName: BATCH_QUEUE,
      handler: (message, { log }) => jobs.handle(message, { log }),
    },
    {
      kind: 'queue',
      name: 'messageBatchJobPoison',
      queueName: BATCH_POISON_QUEUE,
      handler: (message, { log }) => jobs.handlePoison(message, { log }),
    },
  ];
}
