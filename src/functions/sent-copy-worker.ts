import { type QueueFunctionDefinition } from '../http/definitions';
import {
  SENT_COPY_POISON_QUEUE,
  SENT_COPY_QUEUE,
  type SentCopyCleanup,
} from '../mail/send/sent-copy';

/**
 * The queue that deletes the Sent Items copy of a draft sent with saveToSentItems=false, and its
 * poison queue. The host retries a failing message up to 5 times and then moves it to
 * `sent-copy-delete-poison`, where the copy is left and the send's record says so.
 */
export function sentCopyWorkerFunctions(cleanup: SentCopyCleanup): QueueFunctionDefinition[] {
  return [
    {
      kind: 'queue',
      name: 'sentCopyDelete',
      queueName: SENT_COPY_QUEUE,
      handler: (message, { log }) => cleanup.handle(message, { log }),
    },
    {
      kind: 'queue',
      name: 'sentCopyDeletePoison',
      queueName: SENT_COPY_POISON_QUEUE,
      handler: (message, { log }) => cleanup.handlePoison(message, { log }),
    },
  ];
}
