import { type ReportDefinition } from '../../config';
import { NotFoundError } from '../../core/errors';
import { type HealthCheck } from '../../core/health';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory } from '../../graph/client';
import { type SendService } from '../send-types';
import { reportHealthCheck } from './health';
import { type RenderedReport, renderReport } from './render';
import { type RunOutcome, type RunRequest } from './run';
import { runAll, runRecorded, type RunSummary } from './run-all';
import { type RunStore } from './runs';

export type { RenderedReport } from './render';
export type { RunIdentity, RunOutcome, RunRequest } from './run';
export type { RunSummary } from './run-all';

/** Held in memory for one report at most; beyond it the report says it covers the newest mail. */
const DEFAULT_MAX_MESSAGES = 100_000;
/** One definition's share of a timer run: reading, rendering and sending. */
const DEFAULT_DEFINITION_BUDGET_MS = 8 * 60 * 1000;
/** Definitions reported side by side; each mailbox is read by one report at a time anyway. */
const DEFAULT_CONCURRENCY = 2;

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

/**
 * Composes the report steps: render (`render.ts`: read, figure, HTML and CSV), one run (`run.ts`:
 * claim, render, send, record), the timer's runs (`run-all.ts`) and health (`health.ts`).
 */
export function createReportService(deps: ReportServiceDeps): ReportService {
  const steps = {
    ...deps,
    now: deps.now ?? Date.now,
    maxMessages: deps.maxMessages ?? DEFAULT_MAX_MESSAGES,
    budgetMs: deps.definitionBudgetMs ?? DEFAULT_DEFINITION_BUDGET_MS,
    concurrency: deps.concurrency ?? DEFAULT_CONCURRENCY,
  };
  return {
    find(serviceId, reportId) {
      const definition = deps.definitions.find(
        (d) => d.serviceId === serviceId && d.id === reportId,
      );
      if (!definition) throw new NotFoundError(`Report ${reportId}`);
      return definition;
    },
    render: (definition, options) =>
      renderReport(definition, { ...steps, ...options, at: steps.now() }),
    async run(definition, request) {
      const { outcome, error } = await runRecorded(steps, definition, request);
      if (!outcome) throw error;
      return outcome;
    },
    runAll: (options) => runAll(steps, options),
    healthCheck: () => reportHealthCheck(deps.definitions, deps.runs),
  };
}
