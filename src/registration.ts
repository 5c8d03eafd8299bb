import type {
  HttpFunctionOptions,
  StorageQueueFunctionOptions,
  TimerFunctionOptions,
} from '@azure/functions';

import { type AppContext } from './app';
import { type Config } from './config';
import { toQueueHandler, toTimerHandler } from './functions/background';
import { toHttpHandler } from './http/edge';

// The package's second file (scripts/bundle.mjs): src/index.ts loads it on the first invocation.
export { createApp } from './app';

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

/** The settings a timer's schedule can come from. */
const SCHEDULES = ['reportSchedule', 'keepAliveSchedule', 'notificationsSchedule'] as const;
export type ScheduleSetting = (typeof SCHEDULES)[number] & keyof Config;

/**
 * Every registration without its handler: what the Azure entry (src/index.ts) registers before any
 * domain module is loaded. The build reads it from the built app and inlines it; a timer names the
 * config field its schedule comes from, so the deployed settings still decide it.
 */
export interface ManifestEntry {
  kind: HostRegistration['kind'];
  name: string;
  options: Record<string, unknown>;
  scheduleFrom?: ScheduleSetting;
}

export function functionManifest(
  app: Pick<AppContext, 'functions' | 'edge' | 'config'>,
): ManifestEntry[] {
  return hostRegistrations(app).map(
    ({ kind, name, options: { handler: _handler, ...options } }) => {
      if (kind !== 'timer') return { kind, name, options };
      const schedule = (options as Omit<TimerFunctionOptions, 'handler'>).schedule;
      const from = SCHEDULES.filter((setting) => app.config[setting] === schedule);
      if (from.length !== 1) {
        throw new Error(
          `Timer ${name}: schedule "${schedule}" must be the value of exactly one of ${SCHEDULES.join(', ')}`,
        );
      }
      return { kind, name, options, scheduleFrom: from[0]! };
    },
  );
}
