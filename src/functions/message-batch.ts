import { type HttpFunctionDefinition } from '../http/definitions';
import { credentialKey } from '../http/params';
import { routeId } from '../http/parse';
import { type BatchJobs } from '../mail/message-batch/jobs';

/** `GET credentials/{id}/messages/batch/{jobId}`: a batch that went on in a job, with its results. */
export function batchJobFunction(jobs: BatchJobs): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'batchMessagesJob',
    methods: ['GET'],
    route: 'credentials/{credentialId}/messages/batch/{jobId}',
    auth: 'caller',
    async handler(invocation) {
      const view = await jobs.status(
        credentialKey(invocation),
        routeId(invocation.request, 'jobId'),
      );
      return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: view };
    },
  };
}
