import { type AttachmentSource } from './attachments';
import { type Outcome } from './retry';
import {
  bodyInit,
  type DraftInput,
  type ForwardInput,
  type ReplyInput,
  sendBody,
  type SendMailInput,
} from './send';
import {
  type CallOptions,
  idempotencyHeader,
  type IdempotentCallOptions,
  type JsonBody,
  mailboxQuery,
  type Query,
  type Schemas,
  type Transport,
} from './transport';

/** The request parts a reply or forward shares with `sendMail`: its own body, per attempt. */
interface AnswerRequest {
  params: { header: Record<string, string>; query: { mailbox?: string } };
  init: Record<string, unknown>;
}

/** Sending: a message, a reply or forward, drafts; and what became of a send. */
export function sendingCalls({ api, call }: Transport, credentialId: string) {
  const path = { credentialId };
  const messagePath = (messageId: string) => ({ credentialId, messageId });

  async function answerWith(
    input: ReplyInput | ForwardInput,
    o: IdempotentCallOptions & { mailbox?: string },
    post: (request: AnswerRequest) => Promise<unknown>,
  ): Promise<Schemas['SendResult']> {
    const header = idempotencyHeader(o);
    const prepared = await sendBody(input);
    return call(
      (signal) =>
        post({
          params: { header, query: mailboxQuery(o) },
          init: bodyInit(prepared, signal),
        }) as Promise<Outcome<Schemas['SendResult']>>,
      o,
      prepared.replayable,
    );
  }

  return {
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
        const query = mailboxQuery(o);
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
        const query = mailboxQuery(o);
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
        const query = mailboxQuery(o);
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
  };
}
