import { type QueueFunctionDefinition } from '../http/definitions';
import { BULK_POISON_QUEUE, BULK_QUEUE } from '../mail/bulk/queue';
import { type BulkWorker } from '../mail/bulk/worker';

/**
 * The bulk-send queue and its poison queue. The host retries a failing message up to 5 times and
 * then moves it to `bulk-send-poison`, where the recipient is marked failed with the reason.
 */
export function bulkWorkerFunctions(worker: () => BulkWorker): QueueFunctionDefinition[] {
  return [
    {
      kind: 'queue',
      name: 'bulkSend',
      queueName: BULK_QUEUE,
      handler: (message, { log }) => worker().handle(message, { log }),
    },
    {
      kind: 'queue',
      name: 'bulkSendPoison',
      queueName: BULK_POISON_QUEUE,
      handler: (message, { log }) => worker().handlePoison(message, { log }),
    },
  ];
}
