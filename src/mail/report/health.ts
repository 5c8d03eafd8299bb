import { type ReportDefinition } from '../../config';
import { type HealthCheck, type HealthResult } from '../../core/health';
import { type LastRun, type RunStore } from './runs';

/** What one viewer sees: the configured reports (of one service, or all) and their last runs. */
export function reportHealth(
  definitions: readonly ReportDefinition[],
  runs: readonly LastRun[],
  only?: string,
): HealthResult {
  const mine = (serviceId: string) => only === undefined || serviceId === only;
  const configured = new Set(
    definitions.filter((d) => mine(d.serviceId)).map((d) => `${d.serviceId}/${d.id}`),
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
}

/** Summarises each definition's last run; failing when any last run failed. */
export function reportHealthCheck(
  definitions: readonly ReportDefinition[],
  runs: Pick<RunStore, 'lastRuns'>,
): HealthCheck {
  return {
    name: 'reports',
    async check() {
      const last = await runs.lastRuns();
      return {
        ...reportHealth(definitions, last),
        forService: (serviceId: string) => reportHealth(definitions, last, serviceId),
      };
    },
  };
}
