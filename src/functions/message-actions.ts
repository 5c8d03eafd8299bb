import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import { readBatchCommand, readDestination, readMessageChange } from '../http/message-actions';
import { idempotencyKey, parseQuery, queryBoolean } from '../http/parse';
import { type MessageActions } from '../mail/message-actions';
import { actionOptions, credentialKey, mailboxParam, routeGraphId } from '../http/params';

const deleteQuery = z.strictObject({
  mailbox: mailboxParam.optional(),
  permanent: queryBoolean.optional(),
});

const NO_STORE = { 'cache-control': 'no-store' };

function moveOrCopy(actions: MessageActions, copy: boolean): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: copy ? 'copyMessage' : 'moveMessage',
    methods: ['POST'],
    route: `credentials/{credentialId}/messages/{messageId}/${copy ? 'copy' : 'move'}`,
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const messageId = routeGraphId(invocation.request, 'messageId');
      const options = actionOptions(invocation);
      const destination = await readDestination(invocation.request);
      const moved = await actions.move(key, messageId, destination, { ...options, copy });
      return { status: copy ? 201 : 200, headers: NO_STORE, jsonBody: moved };
    },
  };
}

/**
 * The message actions: `PATCH`/`DELETE credentials/{id}/messages/{messageId}`, `POST …/move`,
 * `POST …/copy` and `POST credentials/{id}/messages/batch` (up to 1,000 messages through `$batch`;
 * 202 with a job to poll when they do not fit the request's budget).
 */
export function messageActionFunctions(
  actions: MessageActions,
  publicBaseUrl: string,
): HttpFunctionDefinition[] {
  return [
    {
      kind: 'http',
      name: 'updateMessage',
      methods: ['PATCH'],
      route: 'credentials/{credentialId}/messages/{messageId}',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const messageId = routeGraphId(invocation.request, 'messageId');
        const options = actionOptions(invocation);
        const change = await readMessageChange(invocation.request);
        const message = await actions.update(key, messageId, change, options);
        return { status: 200, headers: NO_STORE, jsonBody: message };
      },
    },
    {
      kind: 'http',
      name: 'deleteMessage',
      methods: ['DELETE'],
      route: 'credentials/{credentialId}/messages/{messageId}',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const messageId = routeGraphId(invocation.request, 'messageId');
        const q = parseQuery(invocation.request, deleteQuery);
        await actions.delete(key, messageId, {
          permanent: q.permanent ?? false,
          mailbox: q.mailbox,
          abortSignal: invocation.abortSignal,
          log: invocation.log,
        });
        return { status: 204, headers: NO_STORE };
      },
    },
    moveOrCopy(actions, false),
    moveOrCopy(actions, true),
    {
      kind: 'http',
      name: 'batchMessages',
      methods: ['POST'],
      route: 'credentials/{credentialId}/messages/batch',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const options = actionOptions(invocation);
        const idempotency = idempotencyKey(invocation.request);
        const { command, fingerprint } = await readBatchCommand(invocation.request);
        const outcome = await actions.batch(key, command, {
          ...options,
          idempotency: idempotency === undefined ? undefined : { key: idempotency, fingerprint },
        });
        if (outcome.kind === 'done') {
          return { status: 200, headers: NO_STORE, jsonBody: outcome.result };
        }
        const statusUrl = `${publicBaseUrl}/api/credentials/${key.credentialId}/messages/batch/${outcome.job.jobId}`;
        return {
          status: 202,
          headers: { ...NO_STORE, location: statusUrl },
          jsonBody: { ...outcome.job, statusUrl },
        };
      },
    },
  ];
}
