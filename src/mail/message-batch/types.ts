import { type ErrorCode } from '../../core/errors';
import { type FolderReference } from '../../graph/folder-resolver';

/** One action on up to 1,000 messages (`POST messages/batch`) and what it answers. */

/** Ids are immutable: Graph is asked for `IdType="ImmutableId"` on every request. */
export const ID_TYPE = 'immutable' as const;

export type BatchActionName =
  'markRead' | 'markUnread' | 'move' | 'copy' | 'delete' | 'flag' | 'unflag' | 'categorize';

export interface BatchCommand {
  action: BatchActionName;
  messageIds: string[];
  destination?: FolderReference | undefined;
  categories?: string[] | undefined;
}

export interface ItemError {
  code: ErrorCode;
  message: string;
}

export interface BatchItemResult {
  messageId: string;
  status: 'done' | 'failed';
  newMessageId?: string;
  error?: ItemError;
}

export interface BatchResult {
  action: BatchActionName;
  done: number;
  failed: number;
  /** In the order the ids were given. */
  results: BatchItemResult[];
  idType: typeof ID_TYPE;
}

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

/** A batch handed to a queued job: what `GET messages/batch/{jobId}` answers. */
export interface BatchJobView {
  jobId: string;
  action: BatchActionName;
  status: JobStatus;
  /** Why the job failed as a whole (the credential is gone, repeated worker failures). */
  reason: string | null;
  total: number;
  done: number;
  failed: number;
  pending: number;
  /** In the order the ids were given; `pending` until the job reaches the message. */
  results: Array<
    Omit<BatchItemResult, 'status'> & { status: BatchItemResult['status'] | 'pending' }
  >;
  createdAt: string;
  updatedAt: string;
  idType: typeof ID_TYPE;
}

/** Done within the request, or handed to a job to poll. */
export type BatchOutcome =
  { kind: 'done'; result: BatchResult } | { kind: 'accepted'; job: BatchJobView };
