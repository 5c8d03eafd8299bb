import { type HealthService } from '../health';
import { type HttpFunctionDefinition } from './types';

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
      return {
        status: report.status === 'ok' ? 200 : 503,
        headers: { 'cache-control': 'no-store' },
        jsonBody: report,
      };
    },
  };
}
