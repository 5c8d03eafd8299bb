import { createHash, randomUUID } from 'node:crypto';

import { type ReportDefinition } from '../../config';
import { isAppError, NotFoundError } from '../../core/errors';
import { type HealthCheck } from '../../core/health';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { budgetSignal } from '../../core/abort';
import { type GraphFactory } from '../../graph/client';
import { type AttachmentInput, type OutgoingMessage, type SendService } from '../send-types';
import { reportCsv } from './csv';
import { renderReportHtml } from './html';
import { periodBefore, type ReportPeriod } from './period';
import { readMailbox } from './reader';
import { type RunKey, type RunOutcomeUpdate, type RunStore, type RunTrigger } from './runs';
import { computeFigures, type ReportFigures } from './stats';
import { reportSubject } from './subject';

/** Held in memory for one report at most; beyond it the report says it covers the newest mail. */
const DEFAULT_MAX_MESSAGES = 100_000;
/** One definition's share of a timer run: reading, rendering and sending. */
const DEFAULT_DEFINITION_BUDGET_MS = 8 * 60 * 1000;
/** Definitions reported side by side; each mailbox is read by one report at a time anyway. */
const DEFAULT_CONCURRENCY = 2;

export interface RenderedReport {
  definition: ReportDefinition;
  figures: ReportFigures;
  subject: string;
  html: string;
  csv: string;
  csvName: string;
}

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

export interface RunSummary {
  serviceId: string;
  reportId: string;
  runId: string | null;
  status: 'sent' | 'skipped' | 'failed';
  reason: string | null;
  errorCode: string | null;
  counts: RunOutcome['counts'];
  ms: number;
}

export interface ReportService {
  /** The caller's definition; another service's answers exactly like a missing one. */
  find(serviceId: string, reportId: string): ReportDefinition;
  render(
    definition: ReportDefinition,
    options: { abortSignal?: AbortSignal | undefined; log: Logger },
  ): Promise<RenderedReport>;
  run(definition: ReportDefinition, request: RunRequest): Promise<RunOutcome>;
  /** Every definition; one failing never stops the others. Logs one summary line. */
  runAll(options: { log: Logger; abortSignal?: AbortSignal }): Promise<RunSummary[]>;
  /** Summarises each definition's last run; failing when any last run failed. */
  healthCheck(): HealthCheck;
}

export interface ReportServiceDeps {
  definitions: readonly ReportDefinition[];
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  send: SendService;
  runs: RunStore;
  now?: () => number;
  maxMessages?: number;
  definitionBudgetMs?: number;
  concurrency?: number;
}

function credentialOf(definition: ReportDefinition): CredentialKey {
  return { serviceId: definition.serviceId, credentialId: definition.credentialId };
}

/** Table-key safe and readable: `weekly.2026-05-04.7d`, `weekly.manual.<uuid>`. */
function runIdFor(
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

function errorCodeOf(error: unknown): string {
  return isAppError(error) ? error.code : 'internal';
}

async function pool<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}

export function createReportService(deps: ReportServiceDeps): ReportService {
  const now = deps.now ?? Date.now;
  const maxMessages = deps.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const budgetMs = deps.definitionBudgetMs ?? DEFAULT_DEFINITION_BUDGET_MS;

  async function render(
    definition: ReportDefinition,
    options: { abortSignal?: AbortSignal | undefined; log: Logger; at?: number },
  ): Promise<RenderedReport> {
    const at = options.at ?? now();
    const period = periodBefore(at, definition.periodDays, definition.timeZone);
    const graph = await deps.graph.forCredential(credentialOf(definition), {
      abortSignal: options.abortSignal,
      log: options.log,
    });
    const snapshot = await readMailbox(graph, {
      folders: definition.folders,
      start: period.start,
      end: period.end,
      sentUntil: at,
      maxMessages,
    });
    const figures = computeFigures(snapshot, { definition, period, now: at });
    const first = period.days[0]!;
    const last = period.days[period.days.length - 1]!;
    const csvName = `${definition.id}-${first}_${last}.csv`;
    return {
      definition,
      figures,
      subject: reportSubject(definition.title, figures.periodLabel),
      html: renderReportHtml(figures, { csvName }),
      csv: reportCsv(figures),
      csvName,
    };
  }

  async function run(definition: ReportDefinition, request: RunRequest): Promise<RunOutcome> {
    const at = now();
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
        reason:
          existing.status === 'sent'
            ? 'already_sent'
            : existing.status === 'unknown'
              ? 'outcome_unknown'
              : 'in_progress',
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
      report = await render(definition, { abortSignal: request.abortSignal, log, at });
    } catch (error) {
      await record({ status: 'failed', errorCode: errorCodeOf(error) });
      throw error;
    }
    const message: OutgoingMessage = {
      to: definition.recipients.map((address) => ({ address })),
      cc: [],
      bcc: [],
      replyTo: [],
      subject: report.subject,
      body: report.html,
      contentType: 'html',
      importance: 'normal',
      saveToSentItems: true,
      headers: { 'x-omf-report-run': key.runId },
      attachments: [csvAttachment(report.csvName, report.csv)],
      // A generated report, not a person's mail: no signature.
      signature: false,
    };
    let result;
    try {
      result = await deps.send.send(credentialOf(definition), message, {
        abortSignal: request.abortSignal,
        log,
        // A run taken over from one that died mid-send is answered from the send's own record.
        idempotency: {
          key: `report:${key.runId}`,
          fingerprint: createHash('sha256').update(`${key.serviceId}/${key.runId}`).digest('hex'),
        },
      });
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
    const f = report.figures;
    return {
      ...base,
      status: 'sent',
      reason: null,
      sendId: result.sendId,
      messageId: result.messageId,
      internetMessageId: result.internetMessageId,
      counts: {
        received: f.totals.received,
        sent: f.totals.sent,
        unread: f.totals.unread,
        awaitingReply: f.awaiting.length,
      },
    };
  }

  /** Runs one definition and records its outcome; never throws. */
  async function runRecorded(
    definition: ReportDefinition,
    request: RunRequest,
  ): Promise<{ summary: RunSummary; outcome?: RunOutcome; error?: unknown }> {
    const startedAt = now();
    let summary: RunSummary;
    let outcome: RunOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await run(definition, request);
      summary = {
        serviceId: definition.serviceId,
        reportId: definition.id,
        runId: outcome.runId,
        status: outcome.status,
        reason: outcome.reason,
        errorCode: null,
        counts: outcome.counts,
        ms: now() - startedAt,
      };
    } catch (error) {
      failure = error;
      summary = {
        serviceId: definition.serviceId,
        reportId: definition.id,
        runId: null,
        status: 'failed',
        reason: null,
        errorCode: errorCodeOf(error),
        counts: null,
        ms: now() - startedAt,
      };
      request.log.error('report failed', {
        serviceId: definition.serviceId,
        reportId: definition.id,
        code: summary.errorCode,
        error,
      });
    }
    // A skipped run says nothing new about the report's health; the last real outcome stands.
    if (summary.status !== 'skipped') {
      try {
        await deps.runs.recordLast({
          serviceId: summary.serviceId,
          reportId: summary.reportId,
          runId: summary.runId ?? '',
          status: summary.status,
          at: now(),
          errorCode: summary.errorCode,
        });
      } catch (error) {
        request.log.warn('could not record the last report run', { error });
      }
    }
    return { summary, ...(outcome ? { outcome } : {}), ...(failure ? { error: failure } : {}) };
  }

  return {
    find(serviceId, reportId) {
      const definition = deps.definitions.find(
        (d) => d.serviceId === serviceId && d.id === reportId,
      );
      if (!definition) throw new NotFoundError(`Report ${reportId}`);
      return definition;
    },

    render: (definition, options) => render(definition, options),

    async run(definition, request) {
      const { outcome, error } = await runRecorded(definition, request);
      if (!outcome) throw error;
      return outcome;
    },

    async runAll({ log, abortSignal }) {
      const summaries = await pool(
        deps.definitions,
        deps.concurrency ?? DEFAULT_CONCURRENCY,
        async (definition) =>
          (
            await runRecorded(definition, {
              trigger: 'schedule',
              identity: { kind: 'period' },
              abortSignal: budgetSignal(budgetMs, abortSignal),
              log: log.child({ serviceId: definition.serviceId }),
            })
          ).summary,
      );
      const failed = summaries.filter((s) => s.status === 'failed').length;
      const fields = {
        total: summaries.length,
        sent: summaries.filter((s) => s.status === 'sent').length,
        skipped: summaries.filter((s) => s.status === 'skipped').length,
        failed,
        reports: summaries,
      };
      if (failed > 0) log.warn('report run summary', fields);
      else log.info('report run summary', fields);
      return summaries;
    },

    healthCheck() {
      return {
        name: 'reports',
        async check() {
          const runs = await deps.runs.lastRuns();
          const summary = (only?: string) => {
            const mine = (serviceId: string) => only === undefined || serviceId === only;
            const configured = new Set(
              deps.definitions
                .filter((d) => mine(d.serviceId))
                .map((d) => `${d.serviceId}/${d.id}`),
            );
            const last = runs.filter((r) => configured.has(`${r.serviceId}/${r.reportId}`));
            const failed = last.filter((r) => r.status === 'failed');
            const data = Object.fromEntries(
              last.map((r) => [
                `${r.serviceId}/${r.reportId}`,
                {
                  status: r.status,
                  at: new Date(r.at).toISOString(),
                  ...(r.errorCode ? { code: r.errorCode } : {}),
                },
              ]),
            );
            const detail =
              failed.length === 0
                ? `${configured.size} reports configured, ${last.length} have run, none failed on its last run`
                : `${failed.length} of ${configured.size} reports failed on their last run: ${failed
                    .map((r) => `${r.serviceId}/${r.reportId} (${r.errorCode ?? 'error'})`)
                    .join(', ')}`;
            return { ok: failed.length === 0, detail, data };
          };
          return { ...summary(), forService: (serviceId: string) => summary(serviceId) };
        },
      };
    },
  };
}
