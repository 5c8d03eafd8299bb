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
 * Each resource area's calls are a module of their own (account, folders, messages, downloads,
 * sending, bulk-sends, subscriptions, service-calls) over one transport (`transport.ts`).
 */
import { accountCalls } from './account';
import { bulkSendCalls } from './bulk-sends';
import { attachmentCalls } from './downloads';
import { folderCalls } from './folders';
import { messageCalls } from './messages';
import { sendingCalls } from './sending';
import { serviceCalls } from './service-calls';
import { subscriptionCalls } from './subscriptions';
import { type CallOptions, createTransport, type MailClientOptions } from './transport';

export { MailApiError, isMailApiError, type FieldProblem } from './errors';
export { type AttachmentSource } from './attachments';
export { type AttachmentDownload } from './downloads';
export { type ConversationQuery, type ListMessagesQuery } from './messages';
export { type RetryPolicy } from './retry';
export { type DraftInput, type ForwardInput, type ReplyInput, type SendMailInput } from './send';
export type { components, operations, paths } from './schema';
export type {
  CallOptions,
  IdempotentCallOptions,
  MailClientAuth,
  MailClientOptions,
  Schemas,
} from './transport';

export function createMailClient(options: MailClientOptions) {
  const transport = createTransport(options);
  const { api, call } = transport;

  /** One connected mailbox: everything read, sent and acted on goes through it. */
  function credential(credentialId: string) {
    return {
      ...accountCalls(transport, credentialId),
      ...folderCalls(transport, credentialId),
      ...messageCalls(transport, credentialId),
      ...attachmentCalls(transport, credentialId),
      ...sendingCalls(transport, credentialId),
      ...bulkSendCalls(transport, credentialId),
      ...subscriptionCalls(transport, credentialId),
    };
  }

  return {
    /** Status of the app; with a caller, its own service's checks. */
    health: (o?: CallOptions) => call((signal) => api.GET('/health', { signal }), o),
    listCredentials: (o?: CallOptions) =>
      call((signal) => api.GET('/credentials', { signal }), o).then((r) => r.credentials),
    credential,
    ...serviceCalls(transport),
    /** The underlying openapi-fetch client (same auth), for anything the facade does not name. */
    api,
  };
}

export type MailClient = ReturnType<typeof createMailClient>;
export type CredentialClient = ReturnType<MailClient['credential']>;
