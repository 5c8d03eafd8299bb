import { type Logger } from './logger';

export interface HealthResult {
  ok: boolean;
  detail?: string;
  data?: unknown;
}

/**
 * One readiness check. `detail` and `data` must never contain secrets. A check over objects of
 * several services (credentials, reports) also says what one service may see of its result.
 */
export interface HealthCheck {
  name: string;
  check(options: {
    abortSignal: AbortSignal;
  }): Promise<HealthResult & { forService?: (serviceId: string) => HealthResult }>;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  checks: Record<
    string,
    HealthResult & { ms: number; forService?: (serviceId: string) => HealthResult }
  >;
}

/** Who asks: a probe without a caller, one service's caller, or an operator (sees everything). */
export type HealthViewer =
  { kind: 'anonymous' } | { kind: 'service'; serviceId: string } | { kind: 'operator' };

/**
 * What a viewer may see of a report: an anonymous probe only the status; a service its own
 * objects (and the shared dependencies); an operator everything.
 */
export function viewHealth(report: HealthReport, viewer: HealthViewer): unknown {
  if (viewer.kind === 'anonymous') return { status: report.status };
  const checks = Object.fromEntries(
    Object.entries(report.checks).map(([name, { forService, ms, ...result }]) => [
      name,
      { ...(viewer.kind === 'service' && forService ? forService(viewer.serviceId) : result), ms },
    ]),
  );
  return {
    status: Object.values(checks).every((c) => c.ok) ? 'ok' : 'degraded',
    checks,
  };
}

export interface HealthService {
  add(check: HealthCheck): void;
  report(options?: { abortSignal?: AbortSignal }): Promise<HealthReport>;
}

const CHECK_TIMEOUT_MS = 4_000;
const CACHE_MS = 5_000;

/** Runs every check in parallel with a timeout; results are cached briefly so probes stay cheap. */
export function createHealthService(log: Logger): HealthService {
  const checks: HealthCheck[] = [];
  let cached: { at: number; report: Promise<HealthReport> } | undefined;

  async function run(): Promise<HealthReport> {
    const entries = await Promise.all(
      checks.map(async (c) => {
        const startedAt = Date.now();
        try {
          const result = await c.check({ abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
          return [c.name, { ...result, ms: Date.now() - startedAt }] as const;
        } catch (error) {
          log.warn('health check failed', { check: c.name, error });
          const detail =
            error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed';
          return [c.name, { ok: false, detail, ms: Date.now() - startedAt }] as const;
        }
      }),
    );
    const report: HealthReport = {
      status: entries.every(([, r]) => r.ok) ? 'ok' : 'degraded',
      checks: Object.fromEntries(entries),
    };
    return report;
  }

  return {
    add: (check) => void checks.push(check),
    report: () => {
      if (!cached || Date.now() - cached.at > CACHE_MS) cached = { at: Date.now(), report: run() };
      return cached.report;
    },
  };
}

/** Any HTTP answer proves the endpoint is reachable; only network failures and 5xx count as down. */
export function reachabilityCheck(
  name: string,
  url: string,
  fetchImpl: typeof fetch = fetch,
): HealthCheck {
  return {
    name,
    async check({ abortSignal }) {
      const response = await fetchImpl(url, { signal: abortSignal, redirect: 'manual' });
      await response.body?.cancel();
      return { ok: response.status < 500, detail: `HTTP ${response.status}` };
    },
  };
}
