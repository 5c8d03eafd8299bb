import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';

import { budgetSignal } from '../core/abort';
import { isAppError, isErrorOf, ReauthRequiredError } from '../core/errors';
import { createLogger, invocationSink, type Logger } from '../core/logger';
import { type Authenticate } from './auth';
import { type HttpFunctionDefinition } from './definitions';
import { assertBodyWithin, DEFAULT_MAX_BODY_BYTES } from './parse';
import { statusForCode, toProblemResponse } from './problem';

export interface EdgeDependencies {
  authenticate: Authenticate;
  requestBudgetMs: number;
  /** Where a caller re-connects a credential whose refresh token died. */
  connectUrl(credentialId: string): string;
  /** Literal secrets (the client secret) every invocation's logger scrubs. */
  logSecrets: ReadonlyArray<string | undefined>;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

function requestIdFor(request: HttpRequest, context: InvocationContext): string {
  const inbound =
    request.headers.get('x-request-id') ?? request.headers.get('x-ms-client-request-id');
  return inbound && SAFE_REQUEST_ID.test(inbound) ? inbound : context.invocationId;
}

function withRequestId(response: HttpResponseInit, requestId: string): HttpResponseInit {
  const headers = new Headers(response.headers);
  headers.set('x-request-id', requestId);
  return { ...response, headers };
}

function logOutcome(log: Logger, status: number, startedAt: number, error?: unknown): void {
  const fields = { status, ms: Date.now() - startedAt };
  if (status >= 500) log.error('request failed', { ...fields, error });
  else if (error)
    log.warn('request rejected', {
      ...fields,
      errorCode: isAppError(error) ? error.code : undefined,
    });
  else log.info('request completed', fields);
}

/**
 * Wraps a function definition into a v4 HTTP handler: request id, body limit, caller
 * authentication, time budget, and the single mapping of errors to problem+json.
 */
export function toHttpHandler(
  definition: HttpFunctionDefinition,
  deps: EdgeDependencies,
): HttpHandler {
  return async (request, context) => {
    const startedAt = Date.now();
    const requestId = requestIdFor(request, context);
    const url = new URL(request.url);
    let log = createLogger(
      invocationSink(context),
      { requestId, function: definition.name, method: request.method, path: url.pathname },
      { secrets: deps.logSecrets },
    );
    try {
      const abortSignal = budgetSignal(deps.requestBudgetMs);
      let response: HttpResponseInit;
      const sentCredentials =
        request.headers.has('x-api-key') || request.headers.has('authorization');
      if (definition.auth === 'caller' || (definition.auth === 'optional' && sentCredentials)) {
        // Who is calling comes first: a stranger learns nothing, not even the body limit.
        const caller = await deps.authenticate(request.headers);
        log = log.child({ serviceId: caller.serviceId, caller: caller.principal });
        assertBodyWithin(request, definition.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
        response = await definition.handler({
          request,
          context,
          requestId,
          log,
          abortSignal,
          caller,
        });
      } else {
        assertBodyWithin(request, definition.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
        response = await definition.handler({ request, context, requestId, log, abortSignal });
      }
      logOutcome(log, response.status ?? 200, startedAt);
      return withRequestId(response, requestId);
    } catch (error) {
      if (isErrorOf(error, ReauthRequiredError) && !error.connectUrl) {
        error.connectUrl = deps.connectUrl(error.credentialId);
      }
      logOutcome(log, isAppError(error) ? statusForCode(error.code) : 500, startedAt, error);
      return toProblemResponse(error, { requestId, instance: url.pathname });
    }
  };
}
