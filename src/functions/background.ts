import type { InvocationContext, StorageQueueHandler, TimerHandler } from '@azure/functions';

import { createLogger, invocationSink } from '../http/logger';
import { type QueueFunctionDefinition, type TimerFunctionDefinition } from './types';

function invocationFor(name: string, context: InvocationContext) {
  const log = createLogger(invocationSink(context), {
    function: name,
    invocationId: context.invocationId,
  });
  return { context, invocationId: context.invocationId, log };
}

/** Timer adapter: logs the outcome; a thrown error still fails the invocation so the host records it. */
export function toTimerHandler(definition: TimerFunctionDefinition): TimerHandler {
  return async (timer, context) => {
    const invocation = invocationFor(definition.name, context);
    const startedAt = Date.now();
    try {
      await definition.handler(timer, invocation);
      invocation.log.info('timer run completed', {
        ms: Date.now() - startedAt,
        isPastDue: timer.isPastDue,
      });
    } catch (error) {
      invocation.log.error('timer run failed', { ms: Date.now() - startedAt, error });
      throw error;
    }
  };
}

/** Queue adapter: a thrown error makes the host redeliver, and after maxDequeueCount poison the message. */
export function toQueueHandler(definition: QueueFunctionDefinition): StorageQueueHandler {
  return async (message, context) => {
    const invocation = invocationFor(definition.name, context);
    try {
      await definition.handler(message, invocation);
    } catch (error) {
      invocation.log.error('queue message failed', {
        error,
        dequeueCount: context.triggerMetadata?.dequeueCount,
      });
      throw error;
    }
  };
}
