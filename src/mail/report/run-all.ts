import { type ReportDefinition } from '../../config';
import { budgetSignal } from '../../core/abort';
import { type Logger } from '../../core/logger';
import { errorCodeOf, type RunDeps, type RunOutcome, runReport, type RunRequest } from './run';
import { type RunStore } from './runs';

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

export interface RecordedRunDeps extends RunDeps {
  runs: RunDeps['runs'] & Pick<RunStore, 'recordLast'>;
}

/** Runs `work` over `items`, at most `size` at a time, results in the items' order. */
export async function pool<T, R>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
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

/**
 * Runs one definition and records its outcome as the definition's last run (what health reads);
 * never throws: a failure is in the summary, and returned for a caller that answers with it.
 */
export async function runRecorded(
  deps: RecordedRunDeps,
  definition: ReportDefinition,
  request: RunRequest,
): Promise<{ summary: RunSummary; outcome?: RunOutcome; error?: unknown }> {
  const startedAt = deps.now();
  const ids = { serviceId: definition.serviceId, reportId: definition.id };
  let summary: RunSummary;
  let outcome: RunOutcome | undefined;
  let failure: unknown;
  try {
    outcome = await runReport(deps, definition, request);
    summary = {
      ...ids,
      runId: outcome.runId,
      status: outcome.status,
      reason: outcome.reason,
      errorCode: null,
      counts: outcome.counts,
      ms: deps.now() - startedAt,
    };
  } catch (error) {
    failure = error;
    summary = {
      ...ids,
      runId: null,
      status: 'failed',
      reason: null,
      errorCode: errorCodeOf(error),
      counts: null,
      ms: deps.now() - startedAt,
    };
    request.log.error('report failed', { ...ids, code: summary.errorCode, error });
  }
  // A skipped run says nothing new about the report's health; the last real outcome stands.
  if (summary.status !== 'skipped') {
    try {
      await deps.runs.recordLast({
        ...ids,
        runId: summary.runId ?? '',
        status: summary.status,
        at: deps.now(),
        errorCode: summary.errorCode,
      });
    } catch (error) {
      request.log.warn('could not record the last report run', { error });
    }
  }
  return { summary, ...(outcome ? { outcome } : {}), ...(failure ? { error: failure } : {}) };
}

/**
 * The timer's run of every definition, `concurrency` at a time, each within its own budget; one
 * failing never stops the others. Logs one summary line (a warning when any failed).
 */
export async function runAll(
  deps: RecordedRunDeps & {
    definitions: readonly ReportDefinition[];
    concurrency: number;
    budgetMs: number;
  },
  { log, abortSignal }: { log: Logger; abortSignal?: AbortSignal | undefined },
): Promise<RunSummary[]> {
  const summaries = await pool(
    deps.definitions,
    deps.concurrency,
    async (definition) =>
      (
        await runRecorded(deps, definition, {
          trigger: 'schedule',
          identity: { kind: 'period' },
          abortSignal: budgetSignal(deps.budgetMs, abortSignal),
          log: log.child({ serviceId: definition.serviceId }),
        })
      ).summary,
  );
  const count = (status: RunSummary['status']) =>
    summaries.filter((s) => s.status === status).length;
  const fields = {
    total: summaries.length,
    sent: count('sent'),
    skipped: count('skipped'),
    failed: count('failed'),
    reports: summaries,
  };
  if (fields.failed > 0) log.warn('report run summary', fields);
  else log.info('report run summary', fields);
  return summaries;
}
