import { type CallOptions, type JsonBody, type Query, type Transport } from './transport';

/** Bulk sends: create, follow, cancel, resume. */
export function bulkSendCalls({ api, call }: Transport, credentialId: string) {
  const path = { credentialId };
  const jobPath = (jobId: string) => ({ credentialId, jobId });
  return {
    bulkSends: {
      create: (request: JsonBody<'createBulkSend'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/bulk-sends', {
              params: { path },
              body: request,
              signal,
            }),
          o,
        ),
      get: (jobId: string, query: Query<'getBulkSend'> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/bulk-sends/{jobId}', {
              params: { path: jobPath(jobId), query },
              signal,
            }),
          o,
        ),
      cancel: (jobId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/bulk-sends/{jobId}/cancel', {
              params: { path: jobPath(jobId) },
              signal,
            }),
          o,
        ),
      resume: (jobId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/bulk-sends/{jobId}/resume', {
              params: { path: jobPath(jobId) },
              signal,
            }),
          o,
        ),
    },
  };
}
