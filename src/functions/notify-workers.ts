import { CHANGES_QUEUE, DELIVERIES_QUEUE, type Notifications } from '../notifications';
import { type QueueFunctionDefinition, type TimerFunctionDefinition } from '../http/definitions';

/**
 * The notification workers: `notifyChanges` runs folder deltas and lifecycle events,
 * `notifyDeliveries` POSTs signed events (retries re-enqueue themselves with backoff), and the
 * `notifyMaintain` timer renews Graph subscriptions, resumes paused ones and runs a catch-up delta
 * on every watched folder.
 */
export function notifyWorkerFunctions(
  notifications: () => Notifications,
  schedule: string,
): Array<QueueFunctionDefinition | TimerFunctionDefinition> {
  return [
    {
      kind: 'queue',
      name: 'notifyChanges',
      queueName: CHANGES_QUEUE,
      handler: (message, { log }) => notifications().handleChange(message, { log }),
    },
    {
      kind: 'queue',
      name: 'notifyDeliveries',
      queueName: DELIVERIES_QUEUE,
      handler: (message, { log }) => notifications().handleDelivery(message, { log }),
    },
    {
      kind: 'timer',
      name: 'notifyMaintain',
      schedule,
      useMonitor: true,
      async handler(_timer, { log }) {
        const result = await notifications().watches.maintain({ log });
        log.info('notification maintenance', result);
      },
    },
  ];
}
