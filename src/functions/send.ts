import { type HttpFunctionDefinition } from '../http/definitions';
import { idempotencyKey, routeId } from '../http/parse';
import { readSendRequest } from '../http/send-body';
import { maxSendBodyBytes } from '../http/send-request';
import { type SendService } from '../mail/send-types';

export interface SendFunctionDependencies {
  send: SendService;
  maxMessageSizeBytes: number;
  /** Where multipart file parts are spooled (default: the OS temp folder). */
  tempDir?: string;
}

/**
 * `POST /api/credentials/{credentialId}/send`: JSON or multipart/form-data (files streamed to
 * temporary files, deleted when the send is over), optional Idempotency-Key → 202 with ids.
 * All 5 custom header slots are the caller's (the send id that finds a message whose answer was
 * lost is an extended property). With `saveToSentItems: false` nothing is kept and the ids are
 * null; a message with large attachments goes by draft, whose Sent Items copy is deleted once it
 * is there; if it does not appear within the time budget the answer is still 202 (the mail went)
 * and the copy stays in Sent Items, with a warning in the log. Large attachments from a shared
 * mailbox are drafted in the signed-in user's mailbox with `from` set to the shared one (Graph
 * allows delegated upload sessions only there): the Sent Items copy and the ids are the user's.
 */
export function sendFunction(deps: SendFunctionDependencies): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'send',
    methods: ['POST'],
    route: 'credentials/{credentialId}/send',
    auth: 'caller',
    maxBodyBytes: maxSendBodyBytes(deps.maxMessageSizeBytes),
    async handler({ request, caller, log, abortSignal }) {
      const credentialId = routeId(request, 'credentialId');
      const key = idempotencyKey(request);
      const parsed = await readSendRequest(request, {
        maxMessageSizeBytes: deps.maxMessageSizeBytes,
        abortSignal,
        tempDir: deps.tempDir,
      });
      try {
        const result = await deps.send.send(
          { serviceId: caller.serviceId, credentialId },
          parsed.message,
          {
            abortSignal,
            log,
            ...(key === undefined ? {} : { idempotency: { key, fingerprint: parsed.fingerprint } }),
          },
        );
        return { status: 202, headers: { 'cache-control': 'no-store' }, jsonBody: result };
      } finally {
        await parsed.dispose();
      }
    },
  };
}
