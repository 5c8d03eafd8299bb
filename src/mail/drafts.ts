import { ConflictError, NotFoundError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';
import { type GraphFactory } from '../graph/client';
import { deleteMessage, type DraftView, readDraft, updateDraft } from '../graph/drafts';
import { type BodyFormat } from '../graph/prefer';
import { type SenderPreparer } from './identity/sender';
import { type GraphOutgoingMessage } from '../graph/send';
import {
  type AttachmentInput,
  type OutgoingMessage,
  type SendOptions,
  type SendResult,
  type DraftSender,
} from './send-types';

/**
 * Drafts for a person in the loop: made by the send service (any file size, an answer through
 * Graph's create… actions), reviewed and changed here, sent by the send service (never twice).
 */

export interface DraftOptions {
  mailbox?: string | undefined;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

/** Fields a draft's PATCH may change, as Graph takes them. */
export type DraftChange = Pick<
  GraphOutgoingMessage,
  | 'subject'
  | 'body'
  | 'toRecipients'
  | 'ccRecipients'
  | 'bccRecipients'
  | 'replyTo'
  | 'importance'
  | 'from'
>;

export interface DraftService {
  create(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: SendOptions,
  ): Promise<DraftView>;
  get(
    credential: CredentialKey,
    draftId: string,
    options: DraftOptions & { body?: BodyFormat },
  ): Promise<DraftView>;
  update(
    credential: CredentialKey,
    draftId: string,
    change: DraftChange,
    options: DraftOptions,
  ): Promise<DraftView>;
  delete(credential: CredentialKey, draftId: string, options: DraftOptions): Promise<void>;
  /** Adds files of any size; a failure leaves the draft as it was. Answers the draft. */
  addAttachments(
    credential: CredentialKey,
    draftId: string,
    files: AttachmentInput[],
    options: DraftOptions,
  ): Promise<DraftView>;
  send(
    credential: CredentialKey,
    draftId: string,
    options: SendOptions & { mailbox?: string | undefined },
  ): Promise<SendResult>;
}

export function createDraftService(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  send: DraftSender;
  /** Checks a changed `from` against the credential's identities (absent: taken as given). */
  sender?: Pick<SenderPreparer, 'checkFrom'>;
}): DraftService {
  // Drafts are changed mail: in a shared mailbox that needs Mail.ReadWrite.Shared (`writes`).
  const open = (credential: CredentialKey, options: DraftOptions, writes: boolean) =>
    deps.graph.forCredential(credential, {
      abortSignal: options.abortSignal,
      log: options.log,
      writes,
      ...(options.mailbox === undefined ? {} : { mailbox: options.mailbox }),
    });

  /** The draft, 404 when it does not exist, 409 when it is no draft any more (sent). */
  async function stillDraft(
    credential: CredentialKey,
    draftId: string,
    options: DraftOptions & { body?: BodyFormat },
    writes: boolean,
  ) {
    const graph = await open(credential, options, writes);
    const draft = await readDraft(graph, draftId, options.body ?? 'html');
    if (!draft) throw new NotFoundError(`Draft ${draftId}`);
    if (!draft.isDraft) {
      throw new ConflictError(
        'conflict',
        `Message ${draftId} is not a draft: it was sent already.`,
      );
    }
    return { graph, draft };
  }

  return {
    async create(credential, message, options) {
      // Opened first: a credential that may not change the mailbox is refused before any call.
      const graph = await open(credential, { ...options, mailbox: message.mailbox }, true);
      const saved = await deps.send.saveDraft(credential, message, options);
      const draft = await readDraft(graph, saved.id, message.contentType);
      if (!draft) throw new NotFoundError(`Draft ${saved.id}`);
      return draft;
    },
    async get(credential, draftId, options) {
      return (await stillDraft(credential, draftId, options, false)).draft;
    },
    async update(credential, draftId, change, options) {
      // Before the draft is read or changed; its body is taken as the person wrote it: the
      // signature went in when the draft was made and is not added again.
      const from = change.from?.emailAddress.address;
      if (from !== undefined) await deps.sender?.checkFrom(credential, from, options);
      const { graph, draft } = await stillDraft(credential, draftId, options, true);
      await updateDraft(graph, draftId, change);
      const format = change.body?.contentType === 'Text' ? 'text' : draft.body?.contentType;
      const updated = await readDraft(graph, draftId, format === 'text' ? 'text' : 'html');
      if (!updated) throw new NotFoundError(`Draft ${draftId}`);
      return updated;
    },
    async delete(credential, draftId, options) {
      const { graph } = await stillDraft(credential, draftId, options, true);
      await deleteMessage(graph, draftId);
    },
    async addAttachments(credential, draftId, files, options) {
      // Opened first: a credential that may not change the mailbox is refused before any call.
      const graph = await open(credential, options, true);
      await deps.send.attachToDraft(credential, draftId, files, options);
      const draft = await readDraft(graph, draftId, 'html');
      if (!draft) throw new NotFoundError(`Draft ${draftId}`);
      return draft;
    },
    send(credential, draftId, options) {
      return deps.send.sendDraft(credential, draftId, options);
    },
  };
}
