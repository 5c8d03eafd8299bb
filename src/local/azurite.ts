import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';

/**
 * Starts Azurite (blob, queue, table) in memory on free loopback ports, for `npm start` and the
 * tests. Nobody has to start it by hand.
 */
export interface AzuriteInstance {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  stop(): Promise<void>;
}

const ACCOUNT = 'devstoreaccount1';
// Azurite's documented, public development key: not a secret.
const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
    socket.connect(port, '127.0.0.1');
  });
}

export function azuriteConnectionString(
  ports: AzuriteInstance['ports'],
  account = ACCOUNT,
): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account}`,
    `AccountKey=${DEV_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${account}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${account}`,
    `TableEndpoint=http://127.0.0.1:${ports.table}/${account}`,
  ].join(';');
}

export interface AzuriteOptions {
  startTimeoutMs?: number;
  /**
   * Storage accounts to serve instead of `devstoreaccount1` (all with the development key), so one
   * Azurite gives many users storage that does not overlap (the tests: one account per stack).
   */
  accounts?: readonly string[];
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  // A free port is found by closing a listener on it, so another process may take it before
  // Azurite binds: that start fails at once with EADDRINUSE and is tried again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startOnce(options: AzuriteOptions): Promise<AzuriteInstance> {
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--inMemoryPersistence',
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(ports.blob),
      '--queueHost',
      '127.0.0.1',
      '--queuePort',
      String(ports.queue),
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(ports.table),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: tmpdir(),
      env: options.accounts
        ? {
            ...process.env,
            AZURITE_ACCOUNTS: options.accounts.map((a) => `${a}:${DEV_KEY}`).join(';'),
          }
        : process.env,
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Azurite exited early: ${stderr.trim()}`);
    const ready = await Promise.all([
      accepts(ports.blob),
      accepts(ports.queue),
      accepts(ports.table),
    ]);
    if (ready.every(Boolean))
      return {
        connectionString: azuriteConnectionString(ports, options.accounts?.[0]),
        ports,
        stop,
      };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(
    `Azurite did not start within ${options.startTimeoutMs ?? 20_000} ms: ${stderr.trim()}`,
  );
}
