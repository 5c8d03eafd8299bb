import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import * as z from 'zod';

import { ValidationError } from '../core/errors';
import { type HttpFunctionDefinition } from '../http/definitions';
import { parseQuery, parseWith, readJson, routeId } from '../http/parse';
import { IDEMPOTENCY_KEY_PATTERN } from '../mail/idempotency';
import { type ReportService, type RunIdentity } from '../mail/report/service';

const previewQuery = z.strictObject({ format: z.enum(['html', 'csv']).default('html') });

/**
 * `dedupe: "period"` uses the run id the timer uses for the current period, so it sends only
 * when that period's report has not gone out yet; the default sends a fresh copy.
 */
const runBody = z.strictObject({ dedupe: z.enum(['none', 'period']).default('none') });
const MAX_RUN_BODY_BYTES = 4 * 1024;

/** Report HTML is mail-derived: the page may style itself, never run or fetch anything. */
const PREVIEW_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/** `POST …/run` with no body at all is the common case: the defaults apply. */
async function readRunBody(request: HttpRequest): Promise<z.output<typeof runBody>> {
  const length = request.headers.get('content-length');
  const hasBody = (length !== null && length !== '0') || request.headers.has('transfer-encoding');
  if (!hasBody) return parseWith(runBody, {});
  return (await readJson(request, runBody, { maxBytes: MAX_RUN_BODY_BYTES })).value;
}

function identityFor(dedupe: 'none' | 'period', idempotencyKey: string | null): RunIdentity {
  if (idempotencyKey !== null) {
    if (!IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new ValidationError({
        path: 'Idempotency-Key',
        message: 'must be 1–200 printable ASCII characters',
      });
    }
    if (dedupe === 'period') {
      throw new ValidationError({
        path: 'dedupe',
        message: 'cannot be "period" together with an Idempotency-Key',
      });
    }
    return { kind: 'key', key: idempotencyKey };
  }
  return dedupe === 'period' ? { kind: 'period' } : { kind: 'fresh' };
}

/** `GET reports/{reportId}/preview` and `POST reports/{reportId}/run`, scoped to the caller's service. */
export function reportFunctions(reports: () => ReportService): HttpFunctionDefinition[] {
  return [
    {
      kind: 'http',
      name: 'reportPreview',
      methods: ['GET'],
      route: 'reports/{reportId}/preview',
      auth: 'caller',
      async handler({ request, caller, abortSignal, log }): Promise<HttpResponseInit> {
        const reportId = routeId(request, 'reportId');
        const { format } = parseQuery(request, previewQuery);
        const definition = reports().find(caller.serviceId, reportId);
        const report = await reports().render(definition, { abortSignal, log });
        if (format === 'csv') {
          return {
            status: 200,
            headers: {
              'content-type': 'text/csv; charset=utf-8',
              'content-disposition': `attachment; filename="${report.csvName}"`,
              'x-content-type-options': 'nosniff',
              'cache-control': 'no-store',
            },
            body: report.csv,
          };
        }
        return { status: 200, headers: PREVIEW_HEADERS, body: report.html };
      },
    },
    {
      kind: 'http',
      name: 'reportRun',
      methods: ['POST'],
      route: 'reports/{reportId}/run',
      auth: 'caller',
      maxBodyBytes: MAX_RUN_BODY_BYTES,
      async handler({ request, caller, abortSignal, log }): Promise<HttpResponseInit> {
        const reportId = routeId(request, 'reportId');
        const definition = reports().find(caller.serviceId, reportId);
        const { dedupe } = await readRunBody(request);
        const outcome = await reports().run(definition, {
          trigger: 'manual',
          identity: identityFor(dedupe, request.headers.get('idempotency-key')),
          abortSignal,
          log,
        });
        return { status: 202, headers: { 'cache-control': 'no-store' }, jsonBody: outcome };
      },
    },
  ];
}
