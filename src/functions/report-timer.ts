import { type TimerFunctionDefinition } from '../http/definitions';
import { type ReportService } from '../mail/report/service';

export const REPORT_TIMER_NAME = 'mailReport';

/**
 * Runs every configured report on `REPORT_SCHEDULE`. `useMonitor` keeps the host from starting a
 * second run while one is still going; the run ledger keeps a retried run from sending twice.
 */
export function reportTimerFunction(
  reports: () => ReportService,
  schedule: string,
): TimerFunctionDefinition {
  return {
    kind: 'timer',
    name: REPORT_TIMER_NAME,
    schedule,
    useMonitor: true,
    async handler(timer, { log }) {
      if (timer.isPastDue) log.warn('report timer is running late', {});
      // Failures are per report, logged and in health; the invocation itself succeeds.
      await reports().runAll({ log });
    },
  };
}
