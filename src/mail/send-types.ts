import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';

/**
 * The send path's contract. The send route, bulk jobs and reports all send through one
 * `SendService`, so large attachments, limits and "never twice" hold for every sender.
 */

export interface Recipient {
  address: string;
  name?: string;
}

export interface AttachmentInput {
  name: string;
  contentType: string;
  /** Exact size in bytes, known before sending (upload sessions declare it up front). */
  size: number;
  isInline?: boolean;
  /** For inline images referenced as `cid:{contentId}` in an HTML body. */
  contentId?: string;
  /** Reads the content from the start; called again if an upload has to start over. */
  open(): AsyncIterable<Uint8Array>;
  /**
   * When the content is a file on disk: reads bytes from `position` into `into`, returning how
   * many (0 at its end). An upload then fills its chunk buffers in place instead of copying
   * them out of a stream's buffers (garbage the size of the file).
   */
  readAt?: (into: Uint8Array, position: number) => Promise<number>;
  /** Where the attachment came from in the request (`attachments[0]`, `files[1]`), for errors. */
  path?: string;
  /**
   * Set while the bytes are still arriving (a multipart part whose size was declared): resolves
   * with the final name and type once the part begins. `open` then reads it once, as it arrives.
   */
  arrival?: () => Promise<{ name: string; contentType: string }>;
}

/**
 * The message a reply or forward answers: Graph builds the subject, recipients (reply), the
 * conversation and the quoted original from it.
 */
export interface InResponseTo {
  kind: 'reply' | 'replyAll' | 'forward';
  messageId: string;
}

export interface OutgoingMessage {
  to: Recipient[];
  cc: Recipient[];
  bcc: Recipient[];
  replyTo: Recipient[];
  subject: string;
  body: string;
  contentType: 'text' | 'html';
  importance: 'low' | 'normal' | 'high';
  saveToSentItems: boolean;
  /**
   * Custom internet headers; names start with `x-` and are unique ignoring case (at most 5, all
   * the caller's: the send id travels in an extended property).
   */
  headers: Record<string, string>;
  attachments: AttachmentInput[];
  /** Send from this shared mailbox (UPN) instead of the signed-in user's. */
  mailbox?: string;
  /**
   * Send as this address: the primary one, an alias or a configured shared mailbox (Graph sets
   * `sender`). Checked against the credential's identities before anything is sent.
   */
  from?: Recipient;
  /**
   * A reply or forward: `subject` and `replyTo` are Graph's, `to` (reply) is the original's
   * author (and, replyAll, its other recipients), `cc` on a replyAll adds to its Cc.
   */
  inResponseTo?: InResponseTo;
  /** What `from` is to the credential; set when it was checked (explains a Send As refusal). */
  fromKind?: 'primary' | 'alias' | 'sendAs';
  /** Append the credential's signature; undefined follows the signature's own `default`. */
  signature?: boolean;
  /**
   * Set while attachments are still arriving: settles once the whole request has, rejecting with
   * the caller's error (a size other than declared, a missing or undeclared part, a closed
   * connection). Nothing is sent before it has settled.
   */
  received?: () => Promise<void>;
}

export interface SendOptions {
  /** Bounds the whole send; a budget signal (`budgetSignal`) lets it keep time back to confirm. */
  abortSignal?: AbortSignal | undefined;
  log: Logger;
  /**
   * Makes the send safe to repeat: a repeat with the same key and fingerprint returns the first
   * result without sending; the same key with another fingerprint is an idempotency conflict.
   */
  idempotency?: { key: string; fingerprint: string };
}

export interface SendResult {
  sendId: string;
  status: 'sent';
  /**
   * Immutable id of the sent message when already known (a draft's), else null: the Sent Items
   * copy "may take time" to appear, and `SendStatusService` finds it later.
   */
  messageId: string | null;
  internetMessageId: string | null;
  /** When the send request went out (ISO 8601). */
  sentAt: string;
}

/** A draft this product made, or found, by its immutable id. */
export interface SavedDraft {
  id: string;
}

export interface SendService {
  send(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: SendOptions,
  ): Promise<SendResult>;
}

/** Drafts through the send path: the send service's other half (the drafts routes use it). */
export interface DraftSender {
  /**
   * Saves the message as a draft (in Drafts, or for an answer Graph's create… draft) with its
   * files of any size, for a person to review; recipients may still be missing.
   */
  saveDraft(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: SendOptions,
  ): Promise<SavedDraft>;
  /**
   * Adds files of any size to a draft that is still one (404 when gone, 409 once sent); a failure
   * leaves the draft as it was.
   */
  attachToDraft(
    credential: CredentialKey,
    draftId: string,
    files: AttachmentInput[],
    options: SendOptions & { mailbox?: string | undefined },
  ): Promise<void>;
  /** Sends a draft once: a repeat under the same Idempotency-Key, or a sent draft, never sends again. */
  sendDraft(
    credential: CredentialKey,
    draftId: string,
    options: SendOptions & { mailbox?: string | undefined },
  ): Promise<SendResult>;
}
