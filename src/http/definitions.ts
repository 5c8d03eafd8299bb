import type { HttpRequest, HttpResponseInit, InvocationContext, Timer } from '@azure/functions';

import { type Logger } from '../core/logger';
import { type Caller } from './auth';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface HttpInvocation {
  request: HttpRequest;
  context: InvocationContext;
  requestId: string;
  log: Logger;
  /** Aborts when the caller's time budget runs out (see `remainingMs` in `src/core/abort.ts`). */
  abortSignal: AbortSignal;
}

export interface CallerInvocation extends HttpInvocation {
  caller: Caller;
}

interface HttpFunctionCommon {
  kind: 'http';
  name: string;
  methods: HttpMethod[];
  /** Route template under the `api` prefix, in the Functions host's syntax. */
  route: string;
  /** Largest accepted body; bigger bodies are refused from Content-Length before reading (default `DEFAULT_MAX_BODY_BYTES`). */
  maxBodyBytes?: number;
}

export type HttpFunctionDefinition =
  | (HttpFunctionCommon & {
      auth: 'caller';
      handler(invocation: CallerInvocation): Promise<HttpResponseInit>;
    })
  | (HttpFunctionCommon & {
      auth: 'anonymous';
      handler(invocation: HttpInvocation): Promise<HttpResponseInit>;
    })
  | (HttpFunctionCommon & {
      /** Anonymous unless credentials are sent; credentials sent must be valid. */
      auth: 'optional';
      handler(invocation: HttpInvocation & { caller?: Caller }): Promise<HttpResponseInit>;
    });

export interface BackgroundInvocation {
  context: InvocationContext;
  invocationId: string;
  log: Logger;
}

export interface TimerFunctionDefinition {
  kind: 'timer';
  name: string;
  /** Six-field NCRONTAB. */
  schedule: string;
  /** Guards against overlapping runs across instances and missed schedules (host feature). */
  useMonitor: boolean;
  handler(timer: Timer, invocation: BackgroundInvocation): Promise<void>;
}

export interface QueueFunctionDefinition {
  kind: 'queue';
  name: string;
  queueName: string;
  handler(message: unknown, invocation: BackgroundInvocation): Promise<void>;
}

export type FunctionDefinition =
  HttpFunctionDefinition | TimerFunctionDefinition | QueueFunctionDefinition;
