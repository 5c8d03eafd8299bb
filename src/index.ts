/**
 * Entry point the Azure Functions host loads (package.json "main"). It registers every function
 * from the manifest the build inlined and loads the app itself (src/registration.ts, a file of its
 * own in the package) on the first invocation: registering then costs about what a bare
 * one-function app does. Config is validated here, once and without zod: a bad setting still stops
 * start-up with a line naming it.
 */
import module from 'node:module';

import {
  app,
  type HttpFunctionOptions,
  type InvocationContext,
  type StorageQueueFunctionOptions,
  type TimerFunctionOptions,
} from '@azure/functions';

import { loadConfig } from './config';
import type * as Registration from './registration';

/** Inlined by scripts/bundle.mjs: `functionManifest` of the built app. */
declare const FUNCTION_MANIFEST: Registration.ManifestEntry[];

// Node 22+: compiled code is cached on disk, so a restarted worker skips most of the compiling.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const config = loadConfig(process.env);

// Streams let a 150 MiB multipart send and attachment downloads pass without buffering whole.
app.setup({ enableHttpStream: true });

type Handler = (trigger: unknown, context: InvocationContext) => unknown;
let handlers: ReadonlyMap<string, Handler> | undefined;

/** The real handler, building the app (services, definitions) on the first call in the process. */
function handlerOf(name: string): Handler {
  if (!handlers) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the lazy load this entry exists for
    const { createApp, hostRegistrations } = require('./registration') as typeof Registration;
    handlers = new Map(
      hostRegistrations(createApp({ env: process.env })).map((r) => [
        r.name,
        r.options.handler as Handler,
      ]),
    );
  }
  const handler = handlers.get(name);
  if (!handler) throw new Error(`Function ${name} is not in the app's registration table`);
  return handler;
}

const lazy = (name: string) => (trigger: unknown, context: InvocationContext) =>
  handlerOf(name)(trigger, context);

for (const entry of FUNCTION_MANIFEST) {
  const options = {
    ...entry.options,
    ...(entry.scheduleFrom ? { schedule: config[entry.scheduleFrom] } : {}),
    handler: lazy(entry.name),
  };
  switch (entry.kind) {
    case 'http':
      app.http(entry.name, options as HttpFunctionOptions);
      break;
    case 'timer':
      app.timer(entry.name, options as TimerFunctionOptions);
      break;
    case 'queue':
      app.storageQueue(entry.name, options as StorageQueueFunctionOptions);
      break;
  }
}
