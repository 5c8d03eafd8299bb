import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { InvocationContext } from '@azure/functions';

/** A loopback HTTP server for a test; `handler` may be async. Closed by `close()`. */
export async function startServer(
  handler: (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
  ) => void | Promise<void>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks))).catch((error: unknown) => {
        res.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An InvocationContext whose log lines are captured, for asserting what reaches the logs. */
export function capturingContext(functionName = 'test'): {
  context: InvocationContext;
  lines: string[];
} {
  const lines: string[] = [];
  const context = new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    logHandler: (level, ...args) => lines.push(`${level} ${args.map(String).join(' ')}`),
  });
  return { context, lines };
}
