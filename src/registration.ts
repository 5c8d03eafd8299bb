import type {
  HttpFunctionOptions,
  StorageQueueFunctionOptions,
  TimerFunctionOptions,
} from '@azure/functions';

import { type AppContext } from './app';
import { toQueueHandler, toTimerHandler } from './functions/background';
import { toHttpHandler } from './http/edge';

/** What gets registered with a host, derived from the definitions: one table for both hosts. */
export type HostRegistration =
  | { kind: 'http'; name: string; options: HttpFunctionOptions }
  | { kind: 'timer'; name: string; options: TimerFunctionOptions }
  | { kind: 'queue'; name: string; options: StorageQueueFunctionOptions };

export function hostRegistrations(app: Pick<AppContext, 'functions' | 'edge'>): HostRegistration[] {
  return app.functions.map((definition): HostRegistration => {
    switch (definition.kind) {
      case 'http':
        return {
          kind: 'http',
          name: definition.name,
          options: {
            methods: definition.methods,
            route: definition.route,
            // Callers are authenticated by the edge (API key or Entra token), not by function keys.
            authLevel: 'anonymous',
            handler: toHttpHandler(definition, app.edge),
          },
        };
      case 'timer':
        return {
          kind: 'timer',
          name: definition.name,
          options: {
            schedule: definition.schedule,
            useMonitor: definition.useMonitor,
            handler: toTimerHandler(definition, app.edge),
          },
        };
      case 'queue':
        return {
          kind: 'queue',
          name: definition.name,
          options: {
            queueName: definition.queueName,
            connection: 'AzureWebJobsStorage',
            handler: toQueueHandler(definition, app.edge),
          },
        };
    }
  });
}
