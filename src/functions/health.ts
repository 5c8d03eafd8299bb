import { type HealthService, viewHealth } from '../core/health';
import { type HttpFunctionDefinition } from '../http/definitions';

/**
 * Liveness plus readiness of the dependencies. Anonymous probes need no key and get `{status}`
 * only; a caller sees the checks with its own service's objects, an `Operator` app every service's.
 */
export function healthFunction(health: HealthService): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'health',
    methods: ['GET'],
    route: 'health',
    auth: 'optional',
    async handler({ caller }) {
      const report = await health.report();
      // Always 200: a degraded dependency is reported in the body, and a probe that pulled
      // instances out of service for a Graph outage would only make things worse.
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        jsonBody: viewHealth(
          report,
          !caller
            ? { kind: 'anonymous' }
            : caller.operator
              ? { kind: 'operator' }
              : { kind: 'service', serviceId: caller.serviceId },
        ),
      };
    },
  };
}
