import {
  badRequest,
  GraphError,
  graphErrorBody,
  JSON_CONTENT_TYPE,
  type GraphResponse,
} from './errors';
import type { SandboxState, GraphRequest } from './state';
import { isRecord } from './util';

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

export type GraphExecutor = (req: GraphRequest) => Promise<GraphResponse & { drop?: boolean }>;

function parse(body: Buffer, max: number): BatchItem[] {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('Invalid batch payload format.');
  }
  if (!isRecord(payload) || !Array.isArray(payload.requests))
    throw badRequest('Invalid batch payload format.');
  if (payload.requests.length === 0)
    throw badRequest('Invalid batch payload format. The batch must contain at least one request.');
  if (payload.requests.length > max)
    throw badRequest(
      `Invalid batch payload format. The batch contains ${payload.requests.length} requests; the maximum is ${max}.`,
    );
  const seen = new Set<string>();
  const items = payload.requests.map((r: unknown): BatchItem => {
    if (
      !isRecord(r) ||
      (typeof r.id !== 'string' && typeof r.id !== 'number') ||
      typeof r.method !== 'string' ||
      typeof r.url !== 'string'
    ) {
      throw badRequest(
        'Invalid batch payload format. Each request needs an id, a method and a url.',
      );
    }
    const id = String(r.id);
    // Ids are not case-sensitive; a duplicate fails the whole batch.
    if (seen.has(id.toLowerCase()))
      throw badRequest(`Invalid batch payload format. Duplicate request id '${id}'.`);
    seen.add(id.toLowerCase());
    const headers = isRecord(r.headers)
      ? Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), String(v)]))
      : {};
    if (r.body !== undefined && r.body !== null && !headers['content-type']) {
      throw badRequest(
        `Invalid batch payload format. Request '${id}' has a body but no Content-Type header.`,
      );
    }
    const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [];
    return { id, method: r.method.toUpperCase(), url: r.url, headers, body: r.body, dependsOn };
  });
  for (const item of items) {
    for (const dep of item.dependsOn) {
      if (!seen.has(dep.toLowerCase()))
        throw badRequest(
          `Invalid batch payload format. Request '${item.id}' depends on unknown request '${dep}'.`,
        );
    }
  }
  return items;
}

function innerRequest(item: BatchItem, outer: GraphRequest): GraphRequest | GraphError {
  if (/^[a-z]+:\/\//i.test(item.url))
    return badRequest('The batch request URL must be relative, e.g. /me/messages.', 'BadRequest');
  const url = new URL(item.url.startsWith('/') ? item.url : `/${item.url}`, 'http://batch.invalid');
  if (/^\/(v1\.0|beta)\//i.test(url.pathname))
    return badRequest(
      'The batch request URL must be relative to the version, e.g. /me/messages.',
      'BadRequest',
    );
  if (/^\/\$batch/i.test(url.pathname))
    return badRequest('Nested batch requests are not supported.');
  let body = Buffer.alloc(0);
  if (item.body !== undefined && item.body !== null) {
    body =
      typeof item.body === 'string'
        ? Buffer.from(item.body, 'utf8')
        : Buffer.from(JSON.stringify(item.body));
  }
  const headers: Record<string, string> = { ...item.headers };
  if (outer.headers.authorization) headers.authorization = outer.headers.authorization;
  return {
    method: item.method,
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    inBatch: true,
  };
}

function innerResponse(id: string, r: GraphResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { id, status: r.status, headers: r.headers };
  if (r.body !== undefined) out.body = r.body;
  else if (r.raw !== undefined) out.body = Buffer.from(r.raw).toString('base64');
  return out;
}

/**
 * POST /v1.0/$batch. Unordered requests run at most 4 at a time (as Outlook does), `dependsOn`
 * chains run one at a time; a request whose prerequisite failed gets 424. Each inner request goes
 * through the full pipeline, so throttling applies per inner request.
 */
export async function handleBatch(
  state: SandboxState,
  outer: GraphRequest,
  exec: GraphExecutor,
): Promise<GraphResponse> {
  const requestId = crypto.randomUUID();
  let items: BatchItem[];
  try {
    if (outer.method.toUpperCase() !== 'POST')
      throw new GraphError(
        405,
        'Request_BadRequest',
        'Specified HTTP method is not allowed for the request target.',
      );
    items = parse(outer.body, state.limits.limits.maxBatchRequests);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    return {
      status: err.status,
      headers: { 'Content-Type': JSON_CONTENT_TYPE, 'request-id': requestId },
      body: graphErrorBody(
        err.code,
        err.message,
        requestId,
        outer.headers['client-request-id'] ?? requestId,
      ),
    };
  }
  const results = new Map<string, Record<string, unknown>>();
  const status = new Map<string, number>();
  const runOne = async (item: BatchItem): Promise<void> => {
    const failedDep = item.dependsOn.find((d) => (status.get(d.toLowerCase()) ?? 0) >= 400);
    if (failedDep !== undefined) {
      const r: GraphResponse = {
        status: 424,
        headers: { 'Content-Type': JSON_CONTENT_TYPE },
        body: graphErrorBody(
          'FailedDependency',
          `The request could not be processed because the dependent request '${failedDep}' failed.`,
          crypto.randomUUID(),
          requestId,
        ),
      };
      results.set(item.id, innerResponse(item.id, r));
      status.set(item.id.toLowerCase(), 424);
      return;
    }
    const req = innerRequest(item, outer);
    let r: GraphResponse & { drop?: boolean };
    if (req instanceof GraphError) {
      r = {
        status: req.status,
        headers: { 'Content-Type': JSON_CONTENT_TYPE },
        body: graphErrorBody(req.code, req.message, crypto.randomUUID(), requestId),
      };
    } else {
      r = await exec(req);
      if (r.drop)
        r = {
          status: 504,
          headers: { 'Content-Type': JSON_CONTENT_TYPE },
          body: graphErrorBody(
            'GatewayTimeout',
            'The server did not receive a timely response from an upstream server.',
            crypto.randomUUID(),
            requestId,
          ),
        };
    }
    results.set(item.id, innerResponse(item.id, r));
    status.set(item.id.toLowerCase(), r.status);
  };
  if (items.some((i) => i.dependsOn.length > 0)) {
    const pending = [...items];
    while (pending.length > 0) {
      const index = pending.findIndex((i) => i.dependsOn.every((d) => status.has(d.toLowerCase())));
      if (index < 0) {
        // A dependency cycle can never run.
        for (const i of pending) {
          results.set(
            i.id,
            innerResponse(i.id, {
              status: 424,
              headers: {},
              body: graphErrorBody(
                'FailedDependency',
                'Circular dependsOn.',
                crypto.randomUUID(),
                requestId,
              ),
            }),
          );
        }
        break;
      }
      await runOne(pending.splice(index, 1)[0]!);
    }
  } else {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await runOne(next);
      }),
    );
  }
  return {
    status: 200,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, 'request-id': requestId, 'OData-Version': '4.0' },
    body: { responses: items.map((i) => results.get(i.id)) },
  };
}
