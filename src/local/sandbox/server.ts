import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleBatch } from './batch';
import type { SandboxControl } from './control';
import { handleControlHttp } from './control';
import {
  GraphError,
  graphErrorBody,
  IdentityError,
  identityErrorBody,
  JSON_CONTENT_TYPE,
  type GraphResponse,
} from './errors';
import type { FaultDecision } from './faults';
import { faultError, handleGraph } from './graph/router';
import { IdentityHttp } from './identity-http';
import type { GraphRequest, HttpResult, RequestLogEntry, SandboxState } from './state';
import { sleep } from './util';

/** The request log keeps the most recent entries only, so a long-running `npm start` stays small. */
const LOG_CAP = 50_000;

function record(state: SandboxState, entry: RequestLogEntry): void {
  state.log.push(entry);
  if (state.log.length > LOG_CAP) state.log.splice(0, state.log.length - LOG_CAP);
}

/** Hard cap on what the sandbox reads from a socket; anything larger is refused without buffering. */
const READ_CAP = 200 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > READ_CAP) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function toHttp(r: GraphResponse): HttpResult {
  if (r.body !== undefined)
    return { status: r.status, headers: r.headers, body: JSON.stringify(r.body) };
  if (r.raw !== undefined) return { status: r.status, headers: r.headers, body: r.raw };
  return { status: r.status, headers: { ...r.headers, 'Content-Length': '0' } };
}

/** A fault's answer outside Graph: Entra's error JSON on identity paths, Graph's on upload URLs. */
function faultResult(
  fault: FaultDecision,
  isIdentity: boolean,
  headers: Record<string, string>,
): HttpResult {
  const status = fault.status ?? 504;
  const retry: Record<string, string> =
    fault.retryAfterSeconds !== null ? { 'Retry-After': String(fault.retryAfterSeconds) } : {};
  const requestId = crypto.randomUUID();
  if (isIdentity) {
    const err = new IdentityError(
      status,
      'temporarily_unavailable',
      90033,
      'A transient error has occurred. Please try again.',
    );
    return {
      status,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...retry },
      body: JSON.stringify(identityErrorBody(err, headers['client-request-id'] ?? requestId)),
    };
  }
  const err = faultError(status, fault.retryAfterSeconds);
  return {
    status,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, 'request-id': requestId, ...err.headers },
    body: JSON.stringify(
      graphErrorBody(err.code, err.message, requestId, headers['client-request-id'] ?? requestId),
    ),
  };
}

export interface ServerParts {
  state: SandboxState;
  identity: IdentityHttp;
  control: SandboxControl;
  info: () => unknown;
}

/** The sandbox's HTTP front: identity platform, Graph v1.0 (+ $batch), upload URLs and `/_sandbox` control. */
export function createSandboxServer(parts: ServerParts): Server {
  const { state } = parts;
  const graph = async (req: GraphRequest): Promise<GraphResponse & { drop?: boolean }> => {
    const r = await handleGraph(state, req);
    record(state, {
      method: req.method,
      path: `/v1.0${req.path}`,
      query: req.query.toString(),
      headersPresent: Object.keys(req.headers),
      bodyBytes: req.body.length,
      status: r.drop ? 0 : r.status,
      mailbox: r.mailbox ?? null,
      at: new Date().toISOString(),
      inBatch: req.inBatch,
    });
    return r;
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = lowerHeaders(req);
    const body = await readBody(req);
    const write = (r: HttpResult): void => {
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    };
    if (url.pathname.startsWith('/_sandbox/')) {
      write(
        await handleControlHttp(
          parts.control,
          parts.info,
          state,
          method,
          url,
          body ?? Buffer.alloc(0),
        ),
      );
      return;
    }
    const logOther = (status: number, bytes: number): void => {
      record(state, {
        method,
        path: url.pathname,
        query: url.searchParams.toString(),
        headersPresent: Object.keys(headers),
        bodyBytes: bytes,
        status,
        mailbox: null,
        at: new Date().toISOString(),
        inBatch: false,
      });
    };
    if (/^\/v1\.0(\/|$)/i.test(url.pathname)) {
      const path = url.pathname.replace(/^\/v1\.0/i, '');
      if (body === null || body.length > state.limits.limits.maxRequestBytes) {
        const requestId = crypto.randomUUID();
        const err = new GraphError(
          413,
          'RequestEntityTooLarge',
          'Maximum request length exceeded.',
        );
        logOther(413, body?.length ?? READ_CAP);
        write(
          toHttp({
            status: 413,
            headers: {
              'Content-Type': JSON_CONTENT_TYPE,
              'request-id': requestId,
              'client-request-id': headers['client-request-id'] ?? requestId,
            },
            body: graphErrorBody(
              err.code,
              err.message,
              requestId,
              headers['client-request-id'] ?? requestId,
            ),
          }),
        );
        return;
      }
      const greq: GraphRequest = {
        method,
        path,
        query: url.searchParams,
        headers,
        body,
        inBatch: false,
      };
      if (/^\/\$batch$/i.test(path)) {
        // One round trip for the whole batch; its items pay only Outlook's time (serviceMs).
        if (state.latencyMs > 0) await sleep(state.latencyMs);
        const r = await handleBatch(state, greq, graph);
        logOther(r.status, body.length);
        write(toHttp(r));
        return;
      }
      const r = await graph(greq);
      if (r.drop) {
        res.socket?.destroy();
        return;
      }
      write(toHttp(r));
      return;
    }
    if (body === null) {
      logOther(413, READ_CAP);
      write({ status: 413, headers: {}, body: '' });
      return;
    }
    const fault = state.faults.decide(method, url.pathname);
    if (fault && fault.latencyMs > 0) await sleep(fault.latencyMs);
    if (fault?.drop) {
      logOther(0, body.length);
      res.socket?.destroy();
      return;
    }
    const isIdentity = IdentityHttp.matches(url.pathname) !== null;
    let result: HttpResult;
    if (fault && fault.status !== null && !fault.afterAccept) {
      result = faultResult(fault, isIdentity, headers);
    } else {
      result =
        (await state.uploads.handle(method, url, body, headers)) ??
        (await parts.identity.handle(method, url, body, headers, state.origin())) ??
        ({
          status: 404,
          headers: { 'Content-Type': 'text/plain' },
          body: 'Not found',
        } satisfies HttpResult);
      // "504 after accept": the chunk or token request was processed, the answer is lost.
      if (fault?.afterAccept) result = faultResult(fault, isIdentity, headers);
    }
    logOther(result.status, body.length);
    write(result);
  };

  return createServer((req, res) => {
    dispatch(req, res).catch((err: unknown) => {
      console.error('graph sandbox: unexpected error', err);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': JSON_CONTENT_TYPE });
      res.end(
        JSON.stringify({
          error: { code: 'InternalServerError', message: 'Sandbox internal error.' },
        }),
      );
    });
  });
}
