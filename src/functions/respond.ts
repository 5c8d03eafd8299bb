import { type HttpFunctionDefinition } from '../http/definitions';
import { actionOptions, credentialKey, routeGraphId } from '../http/params';
import { idempotencyKey } from '../http/parse';
import { readResponseRequest } from '../http/respond-body';
import { maxSendBodyBytes } from '../http/send-request';
import { type SendService } from '../mail/send-types';

export interface RespondFunctionDependencies {
  send: SendService;
  maxMessageSizeBytes: number;
  /** Where multipart file parts are spooled (default: the OS temp folder). */
  tempDir?: string;
}

/**
 * `POST credentials/{id}/messages/{messageId}/reply` and `…/forward`: JSON or multipart like
 * send, optional Idempotency-Key, `?mailbox=` for a shared mailbox → 202 with the answer's ids.
 * They go through the send service, so limits, large files and "never twice" are send's.
 */
function respondFunction(
  deps: RespondFunctionDependencies,
  action: 'reply' | 'forward',
): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: action === 'reply' ? 'replyToMessage' : 'forwardMessage',
    methods: ['POST'],
    route: `credentials/{credentialId}/messages/{messageId}/${action}`,
    auth: 'caller',
    maxBodyBytes: maxSendBodyBytes(deps.maxMessageSizeBytes),
    async handler(invocation) {
      const key = credentialKey(invocation);
      const messageId = routeGraphId(invocation.request, 'messageId');
      const { mailbox, abortSignal, log } = actionOptions(invocation);
      const idempotency = idempotencyKey(invocation.request);
      const parsed = await readResponseRequest(
        invocation.request,
        action,
        { messageId, mailbox },
        {
          maxMessageSizeBytes: deps.maxMessageSizeBytes,
          abortSignal,
          tempDir: deps.tempDir,
        },
      );
      try {
        const result = await deps.send.send(key, parsed.message, {
          abortSignal,
          log,
          ...(idempotency === undefined
            ? {}
            : { idempotency: { key: idempotency, fingerprint: parsed.fingerprint } }),
        });
        return { status: 202, headers: { 'cache-control': 'no-store' }, jsonBody: result };
      } finally {
        await parsed.dispose();
      }
    },
  };
}

export function respondFunctions(deps: RespondFunctionDependencies): HttpFunctionDefinition[] {
  return [respondFunction(deps, 'reply'), respondFunction(deps, 'forward')];
}
