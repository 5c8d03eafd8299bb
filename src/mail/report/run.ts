import { createHash, randomUUID } from 'node:crypto';

import { type ReportDefinition } from '../../config';
import { isAppError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type AttachmentInput, type OutgoingMessage, type SendService } from '../send-types';
import { periodBefore, type ReportPeriod } from './period';
import { credentialOf, type RenderedReport, renderReport, type RenderOptions } from './render';
import {
  type RunKey,
  type RunOutcomeUpdate,
  type RunRecord,
  type RunStore,
  type RunTrigger,
} from './runs';

/**
 * Which run id a run uses: the period's (what the timer uses, so a period is sent once), a fresh
 * one (send again), or one derived from a caller's Idempotency-Key.
 */
export type RunIdentity = { kind: 'period' } | { kind: 'fresh' } | { kind: 'key'; key: string };

export interface RunRequest {
  trigger: RunTrigger;
  identity: RunIdentity;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export interface RunOutcome {
  reportId: string;
  runId: string;
  /** `skipped`: the run id was already sent, or is being sent by another run. */
  status: 'sent' | 'skipped';
  reason: 'already_sent' | 'in_progress' | 'outcome_unknown' | null;
  sendId: string | null;
  messageId: string | null;
  internetMessageId: string | null;
  period: { start: string; end: string; timeZone: string };
  counts: { received: number; sent: number; unread: number; awaitingReply: number } | null;
}

export interface RunDeps extends Pick<RenderOptions, 'graph' | 'maxMessages'> {
  send: Pick<SendService, 'send'>;
  runs: Pick<RunStore, 'claim' | 'finish'>;
  now: () => number;
}

export const errorCodeOf = (error: unknown): string =>
  isAppError(error) ? error.code : 'internal';

/** Table-key safe and readable: `weekly.2026-05-04.7d`, `weekly.manual.<uuid>`. */
export function runIdFor(
  definition: ReportDefinition,
  period: ReportPeriod,
  identity: RunIdentity,
): string {
  switch (identity.kind) {
    case 'period': {
      const last = period.days[period.days.length - 1]!;
      return `${definition.id}.${last}.${definition.periodDays}d`;
    }
    case 'fresh':
      return `${definition.id}.manual.${randomUUID()}`;
    case 'key':
      return `${definition.id}.key.${createHash('sha256').update(identity.key, 'utf8').digest('hex').slice(0, 40)}`;
  }
}

function csvAttachment(name: string, csv: string): AttachmentInput {
  const bytes = Buffer.from(csv, 'utf8');
  return {
    name,
    contentType: 'text/csv',
    size: bytes.length,
    // eslint-disable-next-line @typescript-eslint/require-await -- an async iterable of one chunk
    open: async function* () {
      yield bytes;
    },
  };
}

/** The report as mail to its recipients, the CSV attached, the run id in a header. */
export function reportMessage(
  definition: ReportDefinition,
  report: RenderedReport,
  runId: string,
): OutgoingMessage {
  return {
    to: definition.recipients.map((address) => ({ address })),
    cc: [],
    bcc: [],
    replyTo: [],
    subject: report.subject,
    body: report.html,
    contentType: 'html',
    importance: 'normal',
    saveToSentItems: true,
    headers: { 'x-omf-report-run': runId },
    attachments: [csvAttachment(report.csvName, report.csv)],
    // A generated report, not a person's mail: no signature.
    signature: false,
  };
}

/** Why a claimed run id is not run again. */
export function skipReason(existing: RunRecord): NonNullable<RunOutcome['reason']> {
  if (existing.status === 'sent') return 'already_sent';
  return existing.status === 'unknown' ? 'outcome_unknown' : 'in_progress';
}

/**
 * One run: claim its run id in the ledger (a period is sent once however many timers overlap),
 * render, send under an idempotency key of the run, and record the outcome.
 */
export async function runReport(
  deps: RunDeps,
  definition: ReportDefinition,
  request: RunRequest,
): Promise<RunOutcome> {
  const at = deps.now();
  const period = periodBefore(at, definition.periodDays, definition.timeZone);
  const key: RunKey = {
    serviceId: definition.serviceId,
    reportId: definition.id,
    runId: runIdFor(definition, period, request.identity),
  };
  const log = request.log.child({ reportId: definition.id, runId: key.runId });
  const base = {
    reportId: definition.id,
    runId: key.runId,
    period: {
      start: new Date(period.start).toISOString(),
      end: new Date(period.end).toISOString(),
      timeZone: period.timeZone,
    },
  };
  const claim = await deps.runs.claim(key, request.trigger);
  if (!claim.claimed) {
    const { existing } = claim;
    log.info('report run skipped', { existingStatus: existing.status });
    return {
      ...base,
      status: 'skipped',
      reason: skipReason(existing),
      sendId: null,
      messageId: existing.messageId,
      internetMessageId: existing.internetMessageId,
      counts: null,
    };
  }

  /** Recording must not hide what happened: a ledger failure is logged, the outcome stands. */
  const record = async (outcome: RunOutcomeUpdate) => {
    try {
      await deps.runs.finish(key, outcome);
    } catch (error) {
      log.error('could not record the report run outcome', { status: outcome.status, error });
    }
  };
  let report: RenderedReport;
  try {
    report = await renderReport(definition, { ...deps, at, abortSignal: request.abortSignal, log });
  } catch (error) {
    await record({ status: 'failed', errorCode: errorCodeOf(error) });
    throw error;
  }
  let result;
  try {
    result = await deps.send.send(
      credentialOf(definition),
      reportMessage(definition, report, key.runId),
      {
        abortSignal: request.abortSignal,
        log,
        // A run taken over from one that died mid-send is answered from the send's own record.
        idempotency: {
          key: `report:${key.runId}`,
          fingerprint: createHash('sha256').update(`${key.serviceId}/${key.runId}`).digest('hex'),
        },
      },
    );
  } catch (error) {
    const code = errorCodeOf(error);
    await record({
      status: code === 'send_outcome_unknown' ? 'unknown' : 'failed',
      errorCode: code,
    });
    throw error;
  }
  await record({
    status: 'sent',
    messageId: result.messageId,
    internetMessageId: result.internetMessageId,
  });
  const { totals, awaiting } = report.figures;
  return {
    ...base,
    status: 'sent',
    reason: null,
    sendId: result.sendId,
    messageId: result.messageId,
    internetMessageId: result.internetMessageId,
    counts: {
      received: totals.received,
      sent: totals.sent,
      unread: totals.unread,
      awaitingReply: awaiting.length,
    },
  };
}
