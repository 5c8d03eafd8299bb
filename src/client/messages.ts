import {
  type CallOptions,
  everyPage,
  type Friendly,
  idempotencyHeader,
  type IdempotentCallOptions,
  type JsonBody,
  type Query,
  type Transport,
  urlQuery,
} from './transport';

export type ListMessagesQuery = Omit<Friendly<Query<'listMessages'>>, 'cursor'>;
export type ConversationQuery = Omit<Friendly<Query<'listConversation'>>, 'cursor'>;

/** Reading and acting on messages: pages, one message, changes, moves, batches. */
export function messageCalls({ api, call }: Transport, credentialId: string) {
  const path = { credentialId };
  const messagePath = (messageId: string) => ({ credentialId, messageId });
  const jobPath = (jobId: string) => ({ credentialId, jobId });
  return {
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
  };
}
