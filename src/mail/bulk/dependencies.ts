import { type CredentialKey } from '../../credentials/types';
import { type IdentityService } from '../identity/identities';
import { type SendService } from '../send-types';
import { type AttachmentBlobs } from '../template-storage';
import { type TemplateService } from '../templates';
import { type Pacer } from './pacing';
import { type BulkQueue } from './queue';
import { type SentIdResolver } from './sent-ids';
import { type BulkStore } from './store';

/** What every step of bulk sending is built from: Exchange's limits, storage and services. */

export interface BulkSettings {
  ratePerMinute: number;
  dailyRecipientLimit: number;
  dailyWindowMs: number;
  /** Largest message, body and attachments together (the tenant's MaxSendSize). */
  maxMessageBytes: number;
  /** How far ahead the dispatcher reserves send slots. */
  horizonMs: number;
  /** Recipients a dispatch looks at in one go. */
  dispatchBatch: number;
  /** How long a worker owns a recipient it is sending; a crashed worker's claim expires after it. */
  sendLeaseMs: number;
  /** Transient failures (throttling, 5xx) tolerated per recipient before it is failed. */
  maxAttempts: number;
  /** Request bytes per mailbox per rolling `uploadWindowMs` (Graph: 150 MB per 5 minutes). */
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
}

export const DEFAULT_BULK_SETTINGS: Omit<
  BulkSettings,
  'ratePerMinute' | 'dailyRecipientLimit' | 'maxMessageBytes'
> = {
  dailyWindowMs: 24 * 3600_000,
  horizonMs: 30_000,
  dispatchBatch: 100,
  sendLeaseMs: 5 * 60_000,
  maxAttempts: 8,
  // Decimal megabytes: the smaller reading of Graph's "150 MB".
  uploadBytesPerWindow: 150_000_000,
  uploadWindowMs: 5 * 60_000,
};

export interface BulkDependencies {
  store: BulkStore;
  queue: BulkQueue;
  pacer: Pacer;
  templates: TemplateService;
  attachments: AttachmentBlobs;
  send: () => SendService;
  /**
   * The mailbox a credential sends from (the pacing key). Throws NotFoundError for an unknown
   * credential and ReauthRequiredError for a dead one, so a job is never accepted for either.
   */
  senderMailbox(key: CredentialKey, options: { abortSignal?: AbortSignal }): Promise<string>;
  settings: BulkSettings;
  /** Who a credential may send as: a job's `from` is checked when the job is accepted. */
  identities?: IdentityService;
  /** Finds sent rows' message ids when results are read (absent: only what the sends answered). */
  sentIds?: SentIdResolver;
  now?: () => number;
}
