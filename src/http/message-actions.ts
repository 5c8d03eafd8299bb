import { createHash } from 'node:crypto';

import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import {
  type FolderReference,
  MAX_FOLDER_REFERENCE_LENGTH,
  parseFolderReference,
} from '../graph/folder-resolver';
import { type GraphFollowupFlag, type MessageChange, utcDateTime } from '../graph/message-actions';
import { type BatchCommand } from '../mail/message-batch/types';
import { readJson } from './parse';

/** Request bodies of the message and folder actions, validated before anything reaches Graph. */

const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,7})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

const dateTime = z
  .string()
  .regex(ISO_DATE_TIME, 'must be an ISO 8601 date-time with a zone (2026-01-31T08:00:00Z)')
  .transform((value, ctx) => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'is not a real date-time' });
      return z.NEVER;
    }
    return date;
  });

/** Outlook category names: non-empty, at most 255 characters; 50 per message is plenty. */
const categories = z
  .array(z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'))
  .max(50, 'must have at most 50 categories');

const flag = z
  .strictObject({
    status: z.enum(['notFlagged', 'flagged', 'complete'], {
      error: 'must be notFlagged, flagged or complete',
    }),
    startDateTime: dateTime.optional(),
    dueDateTime: dateTime.optional(),
  })
  .superRefine((f, ctx) => {
    if (f.status !== 'flagged' && (f.startDateTime || f.dueDateTime)) {
      ctx.addIssue({
        code: 'custom',
        path: [f.dueDateTime ? 'dueDateTime' : 'startDateTime'],
        message: 'is only for status flagged',
      });
    }
    if (f.startDateTime && f.dueDateTime && f.dueDateTime < f.startDateTime) {
      ctx.addIssue({ code: 'custom', path: ['dueDateTime'], message: 'is before startDateTime' });
    }
  });

const patchSchema = z
  .strictObject({
    isRead: z.boolean({ error: 'must be true or false' }).optional(),
    flag: flag.optional(),
    categories: categories.optional(),
    importance: z
      .enum(['low', 'normal', 'high'], { error: 'must be low, normal or high' })
      .optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: 'must change at least one of isRead, flag, categories, importance',
  });

/**
 * Graph's followupFlag: a due date needs a start date (400 otherwise, per the followupFlag docs),
 * so a due date alone starts the follow-up now, or at the due date if that is earlier.
 */
function toGraphFlag(f: z.output<typeof flag>, now: Date): GraphFollowupFlag {
  const start =
    f.startDateTime ??
    (f.dueDateTime ? new Date(Math.min(now.getTime(), f.dueDateTime.getTime())) : undefined);
  return {
    flagStatus: f.status,
    ...(start ? { startDateTime: utcDateTime(start) } : {}),
    ...(f.dueDateTime ? { dueDateTime: utcDateTime(f.dueDateTime) } : {}),
  };
}

/** `PATCH …/messages/{messageId}`: `{isRead?, flag?, categories?, importance?}`. */
export async function readMessageChange(
  request: HttpRequest,
  now = new Date(),
): Promise<MessageChange> {
  const { value } = await readJson(request, patchSchema);
  return {
    ...(value.isRead === undefined ? {} : { isRead: value.isRead }),
    ...(value.flag === undefined ? {} : { flag: toGraphFlag(value.flag, now) }),
    ...(value.categories === undefined ? {} : { categories: value.categories }),
    ...(value.importance === undefined ? {} : { importance: value.importance }),
  };
}

const folderReference = z
  .string({ error: 'must be a folder id, a well-known name or a path' })
  .min(1, 'must not be empty')
  .max(MAX_FOLDER_REFERENCE_LENGTH);

/** `POST …/messages/{messageId}/move|copy`: `{destination}`. */
export async function readDestination(request: HttpRequest): Promise<FolderReference> {
  const { value } = await readJson(request, z.strictObject({ destination: folderReference }));
  return parseFolderReference(value.destination, 'destination');
}

export const MAX_BATCH_MESSAGES = 1000;

const batchSchema = z
  .strictObject({
    action: z.enum(
      ['markRead', 'markUnread', 'move', 'copy', 'delete', 'flag', 'unflag', 'categorize'],
      { error: 'must be markRead, markUnread, move, copy, delete, flag, unflag or categorize' },
    ),
    messageIds: z
      .array(z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters'))
      .min(1, 'must name at least one message')
      .max(MAX_BATCH_MESSAGES, `must name at most ${MAX_BATCH_MESSAGES} messages`),
    destination: folderReference.optional(),
    categories: categories.optional(),
  })
  .superRefine((b, ctx) => {
    const needsDestination = b.action === 'move' || b.action === 'copy';
    if (needsDestination && b.destination === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['destination'],
        message: `is required for ${b.action}`,
      });
    if (!needsDestination && b.destination !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['destination'],
        message: `is not used by ${b.action}`,
      });
    if (b.action === 'categorize' && b.categories === undefined)
      ctx.addIssue({ code: 'custom', path: ['categories'], message: 'is required for categorize' });
    if (b.action !== 'categorize' && b.categories !== undefined)
      ctx.addIssue({ code: 'custom', path: ['categories'], message: `is not used by ${b.action}` });
    const seen = new Set<string>();
    b.messageIds.forEach((id, index) => {
      if (seen.has(id))
        ctx.addIssue({ code: 'custom', path: ['messageIds', index], message: 'is named twice' });
      seen.add(id);
    });
  });

/** `POST …/messages/batch`: the command and a fingerprint of the body for Idempotency-Key repeats. */
export async function readBatchCommand(
  request: HttpRequest,
): Promise<{ command: BatchCommand; fingerprint: string }> {
  const { value, bytes } = await readJson(request, batchSchema);
  const command: BatchCommand = {
    action: value.action,
    messageIds: value.messageIds,
    ...(value.destination === undefined
      ? {}
      : { destination: parseFolderReference(value.destination, 'destination') }),
    ...(value.categories === undefined ? {} : { categories: value.categories }),
  };
  return { command, fingerprint: createHash('sha256').update(bytes).digest('hex') };
}
