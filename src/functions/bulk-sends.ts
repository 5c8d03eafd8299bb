import * as z from 'zod';

import { type HttpFunctionDefinition } from '../http/definitions';
import { parseQuery, queryTop, readJson, routeId } from '../http/parse';
import { type BulkJobs } from '../mail/bulk/jobs';

/**
 * 10,000 recipients with variables and notes, plus shared attachments as base64: a bulk request
 * is large by design. (Azure's own limit is 100 MB unless FUNCTIONS_REQUEST_BODY_SIZE_LIMIT.)
 */
export const BULK_MAX_BODY_BYTES = 64 * 1024 * 1024;

const statusQuery = z.strictObject({
  cursor: z.string().min(1).max(500).optional(),
  top: queryTop(1000, 100),
});

function jobKey(request: Parameters<typeof routeId>[0], serviceId: string) {
  return { serviceId, credentialId: routeId(request, 'credentialId') };
}

const noStore = { 'cache-control': 'no-store' };

export function bulkSendFunctions(
  jobs: () => BulkJobs,
  publicBaseUrl: string,
): HttpFunctionDefinition[] {
  return [
    {
      kind: 'http',
      name: 'bulkSendsCreate',
      methods: ['POST'],
      route: 'credentials/{credentialId}/bulk-sends',
      auth: 'caller',
      maxBodyBytes: BULK_MAX_BODY_BYTES,
      async handler({ request, caller, abortSignal, log }) {
        const key = jobKey(request, caller.serviceId);
        // Read as JSON only: the job checks every field and row in one pass.
        const { value } = await readJson(request, z.unknown(), { maxBytes: BULK_MAX_BODY_BYTES });
        const { jobId } = await jobs().create(key, value, { abortSignal: abortSignal, log });
        const statusUrl = `${publicBaseUrl}/api/credentials/${key.credentialId}/bulk-sends/${jobId}`;
        return {
          status: 202,
          headers: { ...noStore, location: statusUrl },
          jsonBody: { jobId, statusUrl },
        };
      },
    },
    {
      kind: 'http',
      name: 'bulkSendsStatus',
      methods: ['GET'],
      route: 'credentials/{credentialId}/bulk-sends/{jobId}',
      auth: 'caller',
      async handler({ request, caller, abortSignal, log }) {
        const key = jobKey(request, caller.serviceId);
        const jobId = routeId(request, 'jobId');
        const query = parseQuery(request, statusQuery);
        const page = { top: query.top, ...(query.cursor ? { cursor: query.cursor } : {}) };
        // Sent rows' message ids are looked up here, a few per read (src/mail/bulk/sent-ids.ts).
        const view = await jobs().status(key, jobId, page, { abortSignal, log });
        return { status: 200, headers: noStore, jsonBody: view };
      },
    },
    ...(['cancel', 'resume'] as const).map((action): HttpFunctionDefinition => ({
      kind: 'http',
      name: action === 'cancel' ? 'bulkSendsCancel' : 'bulkSendsResume',
      methods: ['POST'],
      route: `credentials/{credentialId}/bulk-sends/{jobId}/${action}`,
      auth: 'caller',
      async handler({ request, caller }) {
        const key = jobKey(request, caller.serviceId);
        const view = await jobs()[action](key, routeId(request, 'jobId'));
        return { status: 200, headers: noStore, jsonBody: view };
      },
    })),
  ];
}
