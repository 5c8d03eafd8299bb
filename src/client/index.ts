/**
 * The typed client of outlook-mail-functions: the integration as an object a platform calls.
 *
 *   const mail = createMailClient({ baseUrl: 'http://127.0.0.1:7071/api', apiKey });
 *   const outlookMailIntegration = mail.credential('demo');
 *   await outlookMailIntegration.sendMail({ to: 'a@x.com', subject: 'Hi', body: 'Hello', contentType: 'text' });
 *
 * Requests go through openapi-fetch over types generated from openapi.yaml (src/client/schema.ts),
 * so a route or field the server does not serve does not type-check. Not part of the function
 * bundle: built on its own into dist/client (`npm run build:client`), exported as `./client`.
 */
import createClient, { type Client } from 'openapi-fetch';

import { type AttachmentSource } from './attachments';
import { DEFAULT_RETRY, type Outcome, type RetryPolicy, withRetries } from './retry';
import { type components, type operations, type paths } from './schema';
import {
  bodyInit,
  type DraftInput,
  type ForwardInput,
  type ReplyInput,
  sendBody,
  type SendMailInput,
} from './send';

export { MailApiError, isMailApiError, type FieldProblem } from './errors';
export { type AttachmentSource } from './attachments';
export { type RetryPolicy } from './retry';
export { type DraftInput, type ForwardInput, type ReplyInput, type SendMailInput } from './send';
export type { components, operations, paths } from './schema';

export type Schemas = components['schemas'];

/** An API key of `API_KEYS`, or an Entra ID access token for this API, fetched per request. */
export type MailClientAuth = { apiKey: string } | { getToken: () => string | Promise<string> };

export type MailClientOptions = MailClientAuth & {
  /** The API root, e.g. `http://127.0.0.1:7071/api`. */
  baseUrl: string;
  /** 429/503 handling (default: 3 retries, waits up to 60 s each). */
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
};

export interface CallOptions {
  abortSignal?: AbortSignal;
}

/** Sends that repeat safely: a generated `Idempotency-Key` unless one is given (or `false`). */
export interface IdempotentCallOptions extends CallOptions {
  idempotencyKey?: string | false;
}

type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
type JsonBody<Op extends keyof operations> = operations[Op] extends {
  requestBody: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** Query values as JavaScript types: booleans and dates instead of their URL spelling. */
type Friendly<Q> = {
  [K in keyof Q]?: NonNullable<Q[K]> extends 'true' | 'false'
    ? boolean
    : K extends `received${string}`
      ? Date | string
      : Q[K];
};

export type ListMessagesQuery = Omit<Friendly<Query<'listMessages'>>, 'cursor'>;
export type ConversationQuery = Omit<Friendly<Query<'listConversation'>>, 'cursor'>;

function urlQuery<Q extends object>(query: Q | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, value] of Object.entries<unknown>(query ?? {})) {
    if (value === undefined) continue;
    out[name] =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'boolean'
          ? String(value)
          : (value as string | number);
  }
  return out;
}

interface Page {
  nextCursor?: string | null;
}

/** Every page, following `nextCursor` until there is none; stop early with `break`. */
async function* everyPage<P extends Page>(
  page: (cursor: string | undefined) => Promise<P>,
): AsyncGenerator<P, void, undefined> {
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    yield next;
    cursor = next.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

function idempotencyHeader(options: IdempotentCallOptions): Record<string, string> {
  const key = options.idempotencyKey ?? crypto.randomUUID();
  return key === false ? {} : { 'Idempotency-Key': key };
}

/** A downloaded attachment: the bytes as they arrive, and what the server said about them. */
export interface AttachmentDownload {
  stream: ReadableStream<Uint8Array>;
  contentType: string;
  fileName: string | undefined;
  size: number | undefined;
}

function fileNameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined;
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (extended) return decodeURIComponent(extended);
  return /filename="((?:[^"\\]|\\.)*)"/i.exec(disposition)?.[1]?.replace(/\\(.)/g, '$1');
}

export function createMailClient(options: MailClientOptions) {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const api: Client<paths> = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  api.use({
    async onRequest({ request }) {
      if ('apiKey' in options) request.headers.set('x-api-key', options.apiKey);
      else request.headers.set('authorization', `Bearer ${await options.getToken()}`);
      return request;
    },
  });

  /** One API call: retried on 429/503, any other failure thrown as a MailApiError. */
  async function call<T>(
    attempt: (signal: AbortSignal | null) => Promise<Outcome<T>>,
    callOptions: CallOptions = {},
    replayable = true,
  ): Promise<T> {
    return (await answer(attempt, callOptions, replayable)).data;
  }

  /** `call` with the response too (headers of a download). */
  function answer<T>(
    attempt: (signal: AbortSignal | null) => Promise<Outcome<T>>,
    callOptions: CallOptions = {},
    replayable = true,
  ): Promise<{ data: T; response: Response }> {
    return withRetries(() => attempt(callOptions.abortSignal ?? null), {
      policy,
      abortSignal: callOptions.abortSignal,
      replayable,
    });
  }

  /** The request parts a reply or forward shares with `sendMail`: its own body, per attempt. */
  interface AnswerRequest {
    params: { header: Record<string, string>; query: { mailbox?: string } };
    init: Record<string, unknown>;
  }

  async function answerWith(
    input: ReplyInput | ForwardInput,
    o: IdempotentCallOptions & { mailbox?: string },
    post: (request: AnswerRequest) => Promise<unknown>,
  ): Promise<Schemas['SendResult']> {
    const header = idempotencyHeader(o);
    const prepared = await sendBody(input);
    const query = o.mailbox === undefined ? {} : { mailbox: o.mailbox };
    return call(
      (signal) =>
        post({
          params: { header, query },
          init: bodyInit(prepared, signal),
        }) as Promise<Outcome<Schemas['SendResult']>>,
      o,
      prepared.replayable,
    );
  }

  function credential(credentialId: string) {
    const path = { credentialId };
    const messagePath = (messageId: string) => ({ credentialId, messageId });
    const subscriptionPath = (subscriptionId: string) => ({ credentialId, subscriptionId });
    const jobPath = (jobId: string) => ({ credentialId, jobId });

    return {
      credentialId,
      /** The credential's public view (status, account, scopes). */
      get: (o?: CallOptions) =>
        call((signal) => api.GET('/credentials/{credentialId}', { params: { path }, signal }), o),
      /** Imports a refresh token (validated by one refresh; nothing stored when it fails). */
      import: (record: JsonBody<'importCredential'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.PUT('/credentials/{credentialId}', { params: { path }, body: record, signal }),
          o,
        ),
      disconnect: (o?: CallOptions) =>
        call(
          (signal) => api.DELETE('/credentials/{credentialId}', { params: { path }, signal }),
          o,
        ),
      /** The Microsoft sign-in link for the mailbox owner (the route's 302, not followed). */
      connectUrl: async (query: Query<'connectCredential'> = {}, o?: CallOptions) => {
        const response = await withRetries(
          async () => {
            const { response, error } = await api.GET('/credentials/{credentialId}/connect', {
              params: { path, query },
              redirect: 'manual',
              signal: o?.abortSignal ?? null,
            });
            // A redirect is this route's success: hand it on as one.
            return response.status === 302
              ? { data: response.headers.get('location'), response: new Response(null) }
              : { error, response };
          },
          { policy, abortSignal: o?.abortSignal },
        );
        return response.data!;
      },

      /** The addresses the credential may send as: primary, aliases, shared mailboxes. */
      identities: (query: Friendly<Query<'listIdentities'>> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/identities', {
              params: { path, query: urlQuery(query) },
              signal,
            }),
          o,
        ),
      /** The credential's signature, or with `from` an alias's own. */
      getSignature: (query: Query<'getSignature'> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/signature', { params: { path, query }, signal }),
          o,
        ),
      putSignature: (
        signature: JsonBody<'putSignature'>,
        query: Query<'putSignature'> = {},
        o?: CallOptions,
      ) =>
        call(
          (signal) =>
            api.PUT('/credentials/{credentialId}/signature', {
              params: { path, query },
              body: signature,
              signal,
            }),
          o,
        ),
      deleteSignature: (query: Query<'deleteSignature'> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.DELETE('/credentials/{credentialId}/signature', {
              params: { path, query },
              signal,
            }),
          o,
        ),

      listFolders: (query: Friendly<Query<'listFolders'>> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/folders', {
              params: { path, query: urlQuery(query) },
              signal,
            }),
          o,
        ).then((r) => r.folders),
      createFolder: (folder: JsonBody<'createFolder'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/folders', {
              params: { path },
              body: folder,
              signal,
            }),
          o,
        ),
      updateFolder: (folderId: string, change: JsonBody<'updateFolder'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.PATCH('/credentials/{credentialId}/folders/{folderId}', {
              params: { path: { credentialId, folderId } },
              body: change,
              signal,
            }),
          o,
        ),
      deleteFolder: (folderId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.DELETE('/credentials/{credentialId}/folders/{folderId}', {
              params: { path: { credentialId, folderId } },
              signal,
            }),
          o,
        ),

      /** Every page of a folder or the whole mailbox, newest first, through the cursor. */
      listMessages: (query: ListMessagesQuery = {}, o?: CallOptions) =>
        everyPage((cursor) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/messages', {
                params: { path, query: urlQuery({ ...query, cursor }) },
                signal,
              }),
            o,
          ),
        ),
      /** Every page of one thread across folders, oldest first. */
      listConversation: (conversationId: string, query: ConversationQuery = {}, o?: CallOptions) =>
        everyPage((cursor) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/conversations/{conversationId}/messages', {
                params: {
                  path: { credentialId, conversationId },
                  query: urlQuery({ ...query, cursor }),
                },
                signal,
              }),
            o,
          ),
        ),
      getMessage: (messageId: string, query: Query<'getMessage'> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/messages/{messageId}', {
              params: { path: messagePath(messageId), query },
              signal,
            }),
          o,
        ),
      /** Mark read/unread, flag, categorise, set importance. */
      updateMessage: (messageId: string, change: JsonBody<'updateMessage'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.PATCH('/credentials/{credentialId}/messages/{messageId}', {
              params: { path: messagePath(messageId) },
              body: change,
              signal,
            }),
          o,
        ),
      /** To Deleted Items, or purged with `{permanent: true}`. */
      deleteMessage: (
        messageId: string,
        query: Friendly<Query<'deleteMessage'>> = {},
        o?: CallOptions,
      ) =>
        call(
          (signal) =>
            api.DELETE('/credentials/{credentialId}/messages/{messageId}', {
              params: { path: messagePath(messageId), query: urlQuery(query) },
              signal,
            }),
          o,
        ),
      moveMessage: (messageId: string, destination: JsonBody<'moveMessage'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/messages/{messageId}/move', {
              params: { path: messagePath(messageId) },
              body: destination,
              signal,
            }),
          o,
        ),
      copyMessage: (messageId: string, destination: JsonBody<'copyMessage'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/messages/{messageId}/copy', {
              params: { path: messagePath(messageId) },
              body: destination,
              signal,
            }),
          o,
        ),
      /**
       * One action on up to 1,000 messages; repeats safely under its Idempotency-Key. More than the
       * request's time allows answers a job (`jobId`, `statusUrl`) to poll with `batchJob`.
       */
      batch: (command: JsonBody<'batchMessages'>, o: IdempotentCallOptions = {}) => {
        const header = idempotencyHeader(o);
        return call(
          (signal) =>
            api.POST('/credentials/{credentialId}/messages/batch', {
              params: { path, header },
              body: command,
              signal,
            }),
          o,
        );
      },
      /** A batch that went on in a job: its progress and per-message results. */
      batchJob: (jobId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/messages/batch/{jobId}', {
              params: { path: jobPath(jobId) },
              signal,
            }),
          o,
        ),

      listAttachments: (messageId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/messages/{messageId}/attachments', {
              params: { path: messagePath(messageId) },
              signal,
            }),
          o,
        ).then((r) => r.attachments),
      /** The attachment's bytes as a stream (read it to the end or cancel it). */
      downloadAttachment: async (
        messageId: string,
        attachmentId: string,
        o?: CallOptions,
      ): Promise<AttachmentDownload> => {
        const { data, response } = await answer(
          (signal) =>
            api.GET(
              '/credentials/{credentialId}/messages/{messageId}/attachments/{attachmentId}/content',
              {
                params: { path: { credentialId, messageId, attachmentId } },
                parseAs: 'stream',
                signal,
              },
            ) as Promise<Outcome<ReadableStream<Uint8Array>>>,
          o,
        );
        const length = response.headers.get('content-length');
        return {
          stream: data,
          contentType: response.headers.get('content-type') ?? 'application/octet-stream',
          fileName: fileNameOf(response.headers.get('content-disposition')),
          size: length === null ? undefined : Number(length),
        };
      },

      /**
       * Sends one message: attachments from memory, files or streams (small ones inline in JSON,
       * others as streamed multipart). An Idempotency-Key is generated unless given, so a retry
       * after a 429/503 or a lost answer never sends twice.
       */
      sendMail: async (input: SendMailInput, o: IdempotentCallOptions = {}) => {
        const header = idempotencyHeader(o);
        const prepared = await sendBody(input);
        return call(
          (signal) =>
            api.POST('/credentials/{credentialId}/send', {
              params: { path, header },
              ...bodyInit(prepared, signal),
            } as never) as Promise<Outcome<Schemas['SendResult']>>,
          o,
          prepared.replayable,
        );
      },

      /**
       * What became of a send (`sendId` from `sendMail`, a reply, forward, draft send or bulk
       * result): its message ids once the Sent Items copy has appeared (`resolved: false` until
       * then: ask again later).
       */
      getSend: (sendId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/sends/{sendId}', {
              params: { path: { credentialId, sendId } },
              signal,
            }),
          o,
        ),

      /**
       * Replies (or, with `replyAll`, replies to all) in the message's conversation, the original
       * quoted; attachments and Idempotency-Key as for `sendMail`.
       */
      reply: (
        messageId: string,
        input: ReplyInput,
        o: IdempotentCallOptions & { mailbox?: string } = {},
      ) =>
        answerWith(input, o, (request) =>
          api.POST('/credentials/{credentialId}/messages/{messageId}/reply', {
            params: { path: messagePath(messageId), ...request.params },
            ...request.init,
          } as never),
        ),
      /** Forwards the message (its attachments travel) to `to`; as `reply` otherwise. */
      forward: (
        messageId: string,
        input: ForwardInput,
        o: IdempotentCallOptions & { mailbox?: string } = {},
      ) =>
        answerWith(input, o, (request) =>
          api.POST('/credentials/{credentialId}/messages/{messageId}/forward', {
            params: { path: messagePath(messageId), ...request.params },
            ...request.init,
          } as never),
        ),

      drafts: {
        /** Saves a draft (send's input, or `replyTo` / `forwardOf` a message id), files of any size. */
        create: async (input: DraftInput, o: CallOptions & { mailbox?: string } = {}) => {
          const prepared = await sendBody(input);
          const query = o.mailbox === undefined ? {} : { mailbox: o.mailbox };
          return call(
            (signal) =>
              api.POST('/credentials/{credentialId}/drafts', {
                params: { path, query },
                ...bodyInit(prepared, signal),
              } as never) as Promise<Outcome<Schemas['Draft']>>,
            o,
            prepared.replayable,
          );
        },
        get: (draftId: string, query: Query<'getDraft'> = {}, o?: CallOptions) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/drafts/{draftId}', {
                params: { path: { credentialId, draftId }, query },
                signal,
              }),
            o,
          ),
        update: (
          draftId: string,
          change: JsonBody<'updateDraft'>,
          query: Query<'updateDraft'> = {},
          o?: CallOptions,
        ) =>
          call(
            (signal) =>
              api.PATCH('/credentials/{credentialId}/drafts/{draftId}', {
                params: { path: { credentialId, draftId }, query },
                body: change,
                signal,
              }),
            o,
          ),
        delete: (draftId: string, query: Query<'deleteDraft'> = {}, o?: CallOptions) =>
          call(
            (signal) =>
              api.DELETE('/credentials/{credentialId}/drafts/{draftId}', {
                params: { path: { credentialId, draftId }, query },
                signal,
              }),
            o,
          ),
        /** Adds files of any size to a draft (streamed when large); a failure changes nothing. */
        addAttachments: async (
          draftId: string,
          attachments: AttachmentSource[],
          o: CallOptions & { mailbox?: string } = {},
        ) => {
          // Send's body with only its files: JSON when small, else streamed multipart.
          const prepared = await sendBody({ attachments } as SendMailInput);
          const query = o.mailbox === undefined ? {} : { mailbox: o.mailbox };
          return call(
            (signal) =>
              api.POST('/credentials/{credentialId}/drafts/{draftId}/attachments', {
                params: { path: { credentialId, draftId }, query },
                ...bodyInit(prepared, signal),
              } as never) as Promise<Outcome<Schemas['Draft']>>,
            o,
            prepared.replayable,
          );
        },
        /** Sends the draft once (a generated Idempotency-Key unless given). */
        send: (draftId: string, o: IdempotentCallOptions & { mailbox?: string } = {}) => {
          const header = idempotencyHeader(o);
          const query = o.mailbox === undefined ? {} : { mailbox: o.mailbox };
          return call(
            (signal) =>
              api.POST('/credentials/{credentialId}/drafts/{draftId}/send', {
                params: { path: { credentialId, draftId }, header, query },
                signal,
              }),
            o,
          );
        },
      },

      bulkSends: {
        create: (request: JsonBody<'createBulkSend'>, o?: CallOptions) =>
          call(
            (signal) =>
              api.POST('/credentials/{credentialId}/bulk-sends', {
                params: { path },
                body: request,
                signal,
              }),
            o,
          ),
        get: (jobId: string, query: Query<'getBulkSend'> = {}, o?: CallOptions) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/bulk-sends/{jobId}', {
                params: { path: jobPath(jobId), query },
                signal,
              }),
            o,
          ),
        cancel: (jobId: string, o?: CallOptions) =>
          call(
            (signal) =>
              api.POST('/credentials/{credentialId}/bulk-sends/{jobId}/cancel', {
                params: { path: jobPath(jobId) },
                signal,
              }),
            o,
          ),
        resume: (jobId: string, o?: CallOptions) =>
          call(
            (signal) =>
              api.POST('/credentials/{credentialId}/bulk-sends/{jobId}/resume', {
                params: { path: jobPath(jobId) },
                signal,
              }),
            o,
          ),
      },

      subscriptions: {
        create: (request: JsonBody<'createSubscription'>, o?: CallOptions) =>
          call(
            (signal) =>
              api.POST('/credentials/{credentialId}/subscriptions', {
                params: { path },
                body: request,
                signal,
              }),
            o,
          ),
        list: (o?: CallOptions) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/subscriptions', { params: { path }, signal }),
            o,
          ),
        get: (subscriptionId: string, o?: CallOptions) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/subscriptions/{subscriptionId}', {
                params: { path: subscriptionPath(subscriptionId) },
                signal,
              }),
            o,
          ),
        delete: (subscriptionId: string, o?: CallOptions) =>
          call(
            (signal) =>
              api.DELETE('/credentials/{credentialId}/subscriptions/{subscriptionId}', {
                params: { path: subscriptionPath(subscriptionId) },
                signal,
              }),
            o,
          ),
        rotateSecret: (subscriptionId: string, o?: CallOptions) =>
          call(
            (signal) =>
              api.POST('/credentials/{credentialId}/subscriptions/{subscriptionId}/rotate-secret', {
                params: { path: subscriptionPath(subscriptionId) },
                signal,
              }),
            o,
          ),
        deliveries: (
          subscriptionId: string,
          query: Query<'listDeliveries'> = {},
          o?: CallOptions,
        ) =>
          call(
            (signal) =>
              api.GET('/credentials/{credentialId}/subscriptions/{subscriptionId}/deliveries', {
                params: { path: subscriptionPath(subscriptionId), query },
                signal,
              }),
            o,
          ),
        retryDelivery: (subscriptionId: string, deliveryId: string, o?: CallOptions) =>
          call(
            (signal) =>
              api.POST(
                '/credentials/{credentialId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry',
                { params: { path: { credentialId, subscriptionId, deliveryId } }, signal },
              ),
            o,
          ),
      },
      /** One page of new-mail events from a cursor (without one: a cursor for "from now on"). */
      changes: (query: Query<'listChanges'> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/changes', { params: { path, query }, signal }),
          o,
        ),
    };
  }

  return {
    /** Status of the app; with a caller, its own service's checks. */
    health: (o?: CallOptions) => call((signal) => api.GET('/health', { signal }), o),
    listCredentials: (o?: CallOptions) =>
      call((signal) => api.GET('/credentials', { signal }), o).then((r) => r.credentials),
    /** One connected mailbox: everything read, sent and acted on goes through it. */
    credential,
    templates: {
      create: (template: JsonBody<'createTemplate'>, o?: CallOptions) =>
        call((signal) => api.POST('/templates', { body: template, signal }), o),
      list: (o?: CallOptions) => call((signal) => api.GET('/templates', { signal }), o),
      get: (templateId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/templates/{templateId}', { params: { path: { templateId } }, signal }),
          o,
        ),
      update: (templateId: string, template: JsonBody<'updateTemplate'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.PUT('/templates/{templateId}', {
              params: { path: { templateId } },
              body: template,
              signal,
            }),
          o,
        ),
      delete: (templateId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.DELETE('/templates/{templateId}', { params: { path: { templateId } }, signal }),
          o,
        ),
      preview: (templateId: string, recipient: JsonBody<'previewTemplate'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/templates/{templateId}/preview', {
              params: { path: { templateId } },
              body: recipient,
              signal,
            }),
          o,
        ),
    },
    reports: {
      preview: (reportId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/reports/{reportId}/preview', {
              params: { path: { reportId } },
              parseAs: 'text',
              signal,
            }),
          o,
        ),
      run: (reportId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/reports/{reportId}/run', { params: { path: { reportId } }, signal }),
          o,
        ),
    },
    /** The underlying openapi-fetch client (same auth), for anything the facade does not name. */
    api,
  };
}

export type MailClient = ReturnType<typeof createMailClient>;
export type CredentialClient = ReturnType<MailClient['credential']>;
