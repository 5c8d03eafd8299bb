import type { InvocationContext, StorageQueueHandler, TimerHandler } from '@azure/functions';

import { createLogger, invocationSink } from '../core/logger';
import { type QueueFunctionDefinition, type TimerFunctionDefinition } from '../http/definitions';

/** What the trigger adapters need from the composition root. */
export interface BackgroundDependencies {
  /** Literal secrets (the client secret) every invocation's logger scrubs. */
  logSecrets: ReadonlyArray<string | undefined>;
}

function invocationFor(name: string, context: InvocationContext, deps: BackgroundDependencies) {
  const log = createLogger(
    invocationSink(context),
    { function: name, invocationId: context.invocationId },
    { secrets: deps.logSecrets },
  );
  return { context, invocationId: context.invocationId, log };
}

/** Timer adapter: logs the outcome; a thrown error still fails the invocation so the host records it. */
export function toTimerHandler(
  definition: TimerFunctionDefinition,
  deps: BackgroundDependencies,
): TimerHandler {
  return async (timer, context) => {
    const invocation = invocationFor(definition.name, context, deps);
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
export function toQueueHandler(
  definition: QueueFunctionDefinition,
  deps: BackgroundDependencies,
): StorageQueueHandler {
  return async (message, context) => {
    const invocation = invocationFor(definition.name, context, deps);
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
