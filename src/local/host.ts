/**
 * Local stand-in for the Functions host (Core Tools cannot be installed here): serves the same
 * registrations over node:http with the same routes, and runs timer and queue functions like
 * `func start` does. Requests and responses are built with @azure/functions' own classes.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';

import {
  type HttpHandler,
  HttpRequest,
  type HttpRequestInit,
  HttpResponse,
  type HttpResponseInit,
  InvocationContext,
  type Timer,
} from '@azure/functions';

import { sleep } from '../core/abort';
import { type AppError, MethodNotAllowedError, NotFoundError } from '../core/errors';
import { toProblemResponse } from '../http/problem';
import { compileRoute, RouteTable } from '../http/routes';
import { type HostRegistration } from '../registration';
import { type StorageClients } from '../storage';

export interface LocalHostOptions {
  registrations: HostRegistration[];
  port?: number;
  storage?: StorageClients | undefined;
  /** Poll queues for queue-triggered functions (default true when storage is given). */
  runQueues?: boolean;
  log?: (line: string) => void;
}

export interface LocalHost {
  url: string;
  port: number;
  close(): Promise<void>;
}

// The library builds streaming requests from a native Request too (its createStreamRequest); the
// init field is not in its public types.
type StreamingRequestInit = HttpRequestInit & { nativeRequest: Request };

function contextFor(
  name: string,
  log: (line: string) => void,
  triggerMetadata?: Record<string, unknown>,
) {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: name,
    ...(triggerMetadata ? { triggerMetadata } : {}),
    logHandler: (level, ...args) => log(`[${name}] ${level}: ${args.map(String).join(' ')}`),
  });
}

/**
 * The request body as a web stream that touches the socket only when a handler reads it. A handler
 * that answers without reading (a 413 from Content-Length, say) leaves Node free to drain the rest,
 * so the client gets the answer instead of a connection reset.
 */
function lazyBody(req: http.IncomingMessage): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        const next = await chunks.next();
        if (next.done) controller.close();
        // A view, not a copy: each copy would be garbage the size of the body (docs/send.md, "Memory").
        else
          controller.enqueue(
            new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.length),
          );
      },
      cancel() {
        req.resume();
      },
    },
    { highWaterMark: 0 },
  );
}

function toRequest(
  req: http.IncomingMessage,
  url: URL,
  params: Record<string, string>,
): HttpRequest {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const nativeRequest = new Request(url, {
    method: req.method ?? 'GET',
    headers,
    ...(hasBody ? { body: lazyBody(req), duplex: 'half' as const } : {}),
  });
  const init: StreamingRequestInit = { nativeRequest, params };
  return new HttpRequest(init);
}

async function writeResponse(
  res: http.ServerResponse,
  result: HttpResponseInit | HttpResponse,
): Promise<void> {
  const response = result instanceof HttpResponse ? result : new HttpResponse(result);
  const setCookies = response.headers.getSetCookie();
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') res.setHeader(key, value);
  });
  if (setCookies.length > 0) res.setHeader('set-cookie', setCookies);
  res.writeHead(response.status);
  if (!response.body) return void res.end();
  const body = Readable.fromWeb(response.body);
  await new Promise<void>((resolve, reject) => {
    body.on('error', reject);
    res.on('close', resolve);
    body.pipe(res);
  });
}

/** What no registration answers (other paths, the host's admin API, a crash) is problem+json too. */
function writeProblem(res: http.ServerResponse, error: unknown, instance: string): Promise<void> {
  return writeResponse(res, toProblemResponse(error, { requestId: randomUUID(), instance }));
}

/** The request's URL; a target starting `//` stays a path (the URL parser would read a host). */
function requestUrl(req: http.IncomingMessage): URL {
  const origin = `http://${req.headers.host ?? '127.0.0.1'}`;
  const target = req.url ?? '/';
  return target.startsWith('/') ? new URL(origin + target) : new URL(target, origin);
}

function sampleTimer(): Timer {
  const now = new Date().toISOString();
  return {
    isPastDue: false,
    schedule: { adjustForDST: true },
    scheduleStatus: { last: now, next: now, lastUpdated: now },
  };
}

/** Decodes a queue message the way the Functions host does for Node: base64 text, JSON when it parses. */
export function decodeQueueMessage(text: string): unknown {
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded) as unknown;
  } catch {
    return decoded;
  }
}

const MAX_DEQUEUE_COUNT = 5;
const VISIBILITY_ON_FAILURE_S = 10;

function startQueuePollers(
  queues: Array<Extract<HostRegistration, { kind: 'queue' }>>,
  storage: StorageClients,
  log: (line: string) => void,
): () => Promise<void> {
  // Stopping ends the waits between polls at once (a close does not sit out an idle second), but
  // never a receive in flight: a message it took would stay invisible to other instances.
  const stopping = new AbortController();
  const pause = (ms: number) => sleep(ms, stopping.signal).catch(() => undefined);
  const loops = queues.map(async (registration) => {
    const queueName = registration.options.queueName;
    const queue = await storage.queue(queueName);
    let idleMs = 100;
    while (!stopping.signal.aborted) {
      let batch;
      try {
        batch = await queue.receiveMessages({ numberOfMessages: 4, visibilityTimeout: 600 });
      } catch (error) {
        if (!stopping.signal.aborted) log(`[queue ${queueName}] receive failed: ${String(error)}`);
        await pause(1000);
        continue;
      }
      if (batch.receivedMessageItems.length === 0) {
        await pause(idleMs);
        idleMs = Math.min(idleMs * 2, 1000);
        continue;
      }
      idleMs = 100;
      await Promise.all(
        batch.receivedMessageItems.map(async (item) => {
          const context = contextFor(registration.name, log, {
            id: item.messageId,
            dequeueCount: item.dequeueCount,
            insertionTime: item.insertedOn,
            popReceipt: item.popReceipt,
          });
          try {
            await registration.options.handler(decodeQueueMessage(item.messageText), context);
            await queue.deleteMessage(item.messageId, item.popReceipt);
          } catch {
            if (item.dequeueCount >= MAX_DEQUEUE_COUNT) {
              const poison = await storage.queue(`${queueName}-poison`);
              await poison.sendMessage(item.messageText);
              await queue.deleteMessage(item.messageId, item.popReceipt);
              log(`[queue ${queueName}] message ${item.messageId} moved to ${queueName}-poison`);
            } else {
              await queue.updateMessage(
                item.messageId,
                item.popReceipt,
                undefined,
                VISIBILITY_ON_FAILURE_S,
              );
            }
          }
        }),
      );
    }
  });
  return async () => {
    stopping.abort();
    await Promise.allSettled(loops);
  };
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? ((line: string) => console.log(line));
  const httpRegistrations = options.registrations.filter(
    (r): r is Extract<HostRegistration, { kind: 'http' }> => r.kind === 'http',
  );
  const table = new RouteTable<{ name: string; handler: HttpHandler }>(
    httpRegistrations.map((r) =>
      compileRoute(r.options.route ?? r.name, r.options.methods ?? ['GET', 'POST'], {
        name: r.name,
        handler: r.options.handler,
      }),
    ),
  );
  const background = new Map(
    options.registrations.filter((r) => r.kind !== 'http').map((r) => [r.name.toLowerCase(), r]),
  );

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = requestUrl(req);
      const method = req.method ?? 'GET';
      const problem = (error: AppError) => writeProblem(res, error, url.pathname);
      const noRoute = () => problem(new NotFoundError(`The route ${method} ${url.pathname}`));
      const admin = /^\/admin\/functions\/([^/]+)$/.exec(url.pathname);
      if (admin && req.method === 'POST') {
        const registration = background.get(decodeURIComponent(admin[1]!).toLowerCase());
        if (!registration) return problem(new NotFoundError('The function'));
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const context = contextFor(registration.name, log);
        res.writeHead(202).end();
        try {
          if (registration.kind === 'timer')
            await registration.options.handler(sampleTimer(), context);
          else if (registration.kind === 'queue') {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
              input?: string;
            };
            await registration.options.handler(body.input ?? '', context);
          }
        } catch (error) {
          log(`[${registration.name}] failed: ${String(error)}`);
        }
        return;
      }
      if (!url.pathname.startsWith('/api/') && url.pathname !== '/api') return noRoute();
      const match = table.match(method, url.pathname.slice('/api/'.length));
      // Only without the app's catch-all function (unit tests); with it, the app answers these.
      if (match.kind === 'method_not_allowed') {
        return problem(new MethodNotAllowedError(method, match.allow));
      }
      if (match.kind === 'not_found') return noRoute();
      const request = toRequest(req, url, match.params);
      const result = await match.value.handler(request, contextFor(match.value.name, log));
      await writeResponse(res, result);
    })().catch((error: unknown) => {
      log(`local host error: ${String(error)}`);
      if (res.headersSent) return void res.destroy();
      writeProblem(res, error, req.url ?? '/').catch(() => res.destroy());
    });
  });
  server.requestTimeout = 0; // large uploads may take minutes
  // Node's 5 s idle keep-alive races clients that reuse a pooled connection on a busy machine
  // (ECONNRESET on a request the server never saw); a minute leaves the client to close first.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const queues = options.registrations.filter(
    (r): r is Extract<HostRegistration, { kind: 'queue' }> => r.kind === 'queue',
  );
  const stopQueues =
    options.storage && (options.runQueues ?? true) && queues.length > 0
      ? startQueuePollers(queues, options.storage, log)
      : async () => {};
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      await stopQueues();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
