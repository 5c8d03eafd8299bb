import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import {
  draftSendFingerprint,
  readDraftChange,
  readDraftFiles,
  readDraftRequest,
} from '../http/draft-body';
import {
  actionOptions,
  bodyFormatParam,
  credentialKey,
  mailboxParam,
  routeGraphId,
} from '../http/params';
import { idempotencyKey, parseQuery } from '../http/parse';
import { maxSendBodyBytes } from '../http/send-request';
import { type DraftService } from '../mail/drafts';

const NO_STORE = { 'cache-control': 'no-store' };
const DRAFT = 'credentials/{credentialId}/drafts/{draftId}';

const getQuery = z.strictObject({
  bodyFormat: bodyFormatParam.optional(),
  mailbox: mailboxParam.optional(),
});

/**
 * Drafts for a person in the loop: `POST credentials/{id}/drafts` (send's body, or an answer with
 * `replyTo`/`forwardOf`; JSON or multipart, files of any size), `GET/PATCH/DELETE …/drafts/{draftId}`
 * `POST …/drafts/{draftId}/attachments` (files of any size; a failure leaves the draft as it was)
 * and `POST …/drafts/{draftId}/send` (Idempotency-Key; a sent draft is never sent again).
 */
export function draftFunctions(deps: {
  drafts: DraftService;
  maxMessageSizeBytes: number;
  tempDir?: string;
}): HttpFunctionDefinition[] {
  return [
    {
      kind: 'http',
      name: 'createDraft',
      methods: ['POST'],
      route: 'credentials/{credentialId}/drafts',
      auth: 'caller',
      maxBodyBytes: maxSendBodyBytes(deps.maxMessageSizeBytes),
      async handler(invocation) {
        const key = credentialKey(invocation);
        const { mailbox, abortSignal, log } = actionOptions(invocation);
        const parsed = await readDraftRequest(invocation.request, mailbox, {
          maxMessageSizeBytes: deps.maxMessageSizeBytes,
          abortSignal,
          tempDir: deps.tempDir,
        });
        try {
          const draft = await deps.drafts.create(key, parsed.message, { abortSignal, log });
          return { status: 201, headers: NO_STORE, jsonBody: draft };
        } finally {
          await parsed.dispose();
        }
      },
    },
    {
      kind: 'http',
      name: 'getDraft',
      methods: ['GET'],
      route: DRAFT,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const draftId = routeGraphId(invocation.request, 'draftId');
        const q = parseQuery(invocation.request, getQuery);
        const draft = await deps.drafts.get(key, draftId, {
          mailbox: q.mailbox,
          body: q.bodyFormat ?? 'html',
          abortSignal: invocation.abortSignal,
          log: invocation.log,
        });
        return { status: 200, headers: NO_STORE, jsonBody: draft };
      },
    },
    {
      kind: 'http',
      name: 'updateDraft',
      methods: ['PATCH'],
      route: DRAFT,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const draftId = routeGraphId(invocation.request, 'draftId');
        const options = actionOptions(invocation);
        const change = await readDraftChange(invocation.request);
        const draft = await deps.drafts.update(key, draftId, change, options);
        return { status: 200, headers: NO_STORE, jsonBody: draft };
      },
    },
    {
      kind: 'http',
      name: 'deleteDraft',
      methods: ['DELETE'],
      route: DRAFT,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const draftId = routeGraphId(invocation.request, 'draftId');
        await deps.drafts.delete(key, draftId, actionOptions(invocation));
        return { status: 204, headers: NO_STORE };
      },
    },
    {
      kind: 'http',
      name: 'addDraftAttachments',
      methods: ['POST'],
      route: `${DRAFT}/attachments`,
      auth: 'caller',
      maxBodyBytes: maxSendBodyBytes(deps.maxMessageSizeBytes),
      async handler(invocation) {
        const key = credentialKey(invocation);
        const draftId = routeGraphId(invocation.request, 'draftId');
        const options = actionOptions(invocation);
        const read = await readDraftFiles(invocation.request, {
          maxMessageSizeBytes: deps.maxMessageSizeBytes,
          abortSignal: options.abortSignal,
          tempDir: deps.tempDir,
        });
        try {
          const draft = await deps.drafts.addAttachments(key, draftId, read.files, options);
          return { status: 200, headers: NO_STORE, jsonBody: draft };
        } finally {
          await read.dispose();
        }
      },
    },
    {
      kind: 'http',
      name: 'sendDraft',
      methods: ['POST'],
      route: `${DRAFT}/send`,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const draftId = routeGraphId(invocation.request, 'draftId');
        const options = actionOptions(invocation);
        const idempotency = idempotencyKey(invocation.request);
        const fingerprint = draftSendFingerprint(draftId, options.mailbox);
        const result = await deps.drafts.send(key, draftId, {
          ...options,
          ...(idempotency === undefined ? {} : { idempotency: { key: idempotency, fingerprint } }),
        });
        return { status: 202, headers: NO_STORE, jsonBody: result };
      },
    },
  ];
}
