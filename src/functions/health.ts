import { type HealthService } from '../core/health';
import { type HttpFunctionDefinition } from '../http/definitions';

/** Liveness plus readiness of the dependencies; anonymous so probes need no key, and secret-free. */
export function healthFunction(health: HealthService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'health',
    methods: ['GET'],
    route: 'health',
    auth: 'anonymous',
    async handler() {
      const report = await health.report();
      // Always 200: a degraded dependency is reported in the body, and a probe that pulled
      // instances out of service for a Graph outage would only make things worse.
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        jsonBody: report,
      };
    },
  };
}
