import { type MailboxGraph } from '../../graph/client';
import { type MailboxSlot } from '../../graph/uploads';
import { type Logger } from '../../core/logger';
import { type OutgoingMessage } from '../send-types';
import { type SendRecord } from './records';

export interface ConfirmTimings {
  /** How long to keep looking for a message whose send answer was lost. */
  lostAnswerMs: number;
  /** How long to look for a draft whose create answer was lost (to delete it). */
  afterSendMs: number;
  /** Pause between lookups; doubles each time up to 4 s. */
  firstDelayMs: number;
}

export const DEFAULT_CONFIRM_TIMINGS: ConfirmTimings = {
  lostAnswerMs: 20_000,
  afterSendMs: 3_000,
  firstDelayMs: 250,
};

/** Everything the stages of one send share. */
export interface SendContext {
  /** What the stages read of the message (a draft made elsewhere has only this). */
  message: Pick<OutgoingMessage, 'saveToSentItems' | 'received'>;
  sendId: string;
  /** The mailbox the context is opened in (UPN), undefined for the signed-in user's own. */
  mailbox: string | undefined;
  /** Stores what is known of the send for later lookups; never throws (the mail is out). */
  remember: (record: SendRecord) => Promise<void>;
  /**
   * Queues the deletion of a sent draft's Sent Items copy (saveToSentItems=false) once `record`
   * is stored; never throws (a copy that cannot be queued stays, and the record says so).
   */
  deleteCopyLater: (record: SendRecord) => Promise<void>;
  /** Bound to a budget that leaves time to look up a lost answer. */
  work: MailboxGraph;
  /** Bound to the whole budget: lookups and cleanup after `work` ran out. */
  lookup: MailboxGraph;
  abortSignal: AbortSignal | undefined;
  /** `work`'s budget: upload PUTs use it too. */
  workSignal: AbortSignal;
  log: Logger;
  /** One of the drafting mailbox's concurrency slots, for upload PUTs and cancels. */
  slot: MailboxSlot;
  /** Called right before the irreversible request. */
  commit: (sendId: string) => Promise<void>;
  timings: ConfirmTimings;
  /** Observes upload progress (the benchmark counts chunks). */
  onUpload?: ((event: { name: string; size: number; chunks: number }) => void) | undefined;
}
