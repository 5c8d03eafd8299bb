import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { createFileDataKeyRing } from '../src/credentials/data-key';
import { createFileSecretStore } from '../src/credentials/file-store';
import { createRecordRepository } from '../src/credentials/record';
import { type Sandbox, startSandbox } from '../src/local/sandbox';
import { type BenchResult, median } from './result';
import { DEFAULT_SCOPES } from '../src/config';

const root = path.resolve(__dirname, '..');
// Registrations go through a stand-in for the worker's @azure/functions-core, as in Azure.
const FUNCTIONS_CORE = path.join(root, 'test/support/functions-core.cjs');
const API_KEY = 'bench-cold-start-key';
interface FirstRequest {
  /** Registered function to call. */
  name: string;
  path: string;
  params?: Record<string, string>;
}

/**
 * Runs in a fresh Node process: times importing `load` (which registers the functions) and, when
 * asked, the first answer of one function called the way the worker calls it. The request is a
 * plain object with what the handlers read, so no extra library is loaded on either side.
 */
function childScript(load: string, request: FirstRequest | undefined): string {
  return `
const t0 = process.hrtime.bigint();
${load};
const imported = process.hrtime.bigint();
const request = ${JSON.stringify(request ?? null)};
const done = (answered, status) => process.stdout.write('\\nbench=' + JSON.stringify({
  importMs: Number(imported - t0) / 1e6,
  answerMs: answered === undefined ? undefined : Number(answered - t0) / 1e6,
  status,
}));
if (!request) done();
else {
  const registration = globalThis.__functionsCore.registrations.find((r) => r.metadata.name === request.name);
  const url = 'http://127.0.0.1:7071' + request.path;
  const noop = () => {};
  const context = { invocationId: 'bench', functionName: request.name, log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
  const httpRequest = {
    method: 'GET', url, headers: new Headers({ 'x-api-key': ${JSON.stringify(API_KEY)} }),
    query: new URL(url).searchParams, params: request.params ?? {}, body: null,
  };
  Promise.resolve(registration.handler(httpRequest, context)).then(
    (response) => done(process.hrtime.bigint(), response?.status ?? 200),
    (error) => { console.error(error); process.exit(1); },
  );
}`;
}

interface Timing {
  importMs: number;
  answerMs: number | undefined;
  status: number | undefined;
}

/** Asynchronous: the Graph sandbox answering the child lives in this process. */
async function run(script: string, env: Record<string, string>): Promise<Timing> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--require', FUNCTIONS_CORE, '-e', script],
    { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } },
  );
  // The library may print to stdout; the figures are on their own marked line.
  return JSON.parse(/^bench=(.*)$/m.exec(stdout)![1]!) as Timing;
}

/** Settings of the measured app: the Graph sandbox, one API key, the dev file store. */
function appEnv(sandbox: Sandbox, dataDir: string): Record<string, string> {
  return {
    ...sandbox.appSettings,
    PUBLIC_BASE_URL: 'http://127.0.0.1:7071',
    LOCAL_DATA_DIR: dataDir,
    API_KEYS: `bench=${createHash('sha256').update(API_KEY).digest('hex')}`,
  };
}

/** A connected mailbox with a valid access token, as after a connect. */
async function connect(sandbox: Sandbox, dataDir: string): Promise<void> {
  const upn = sandbox.users[0]!.userPrincipalName;
  const issued = await sandbox.control.issueTokens(upn, { scopes: DEFAULT_SCOPES });
  const now = Date.now();
  await createRecordRepository(
    createFileSecretStore({ dir: dataDir, isProduction: false }),
    createFileDataKeyRing(dataDir),
  ).write({
    serviceId: 'bench',
    credentialId: 'c1',
    clientId: sandbox.clientId,
    tenantId: sandbox.tenantId,
    scopes: DEFAULT_SCOPES,
    account: { id: sandbox.users[0]!.id, address: upn, displayName: upn },
    refreshToken: issued.refresh_token!,
    accessToken: issued.access_token,
    accessTokenExpiresAt: now + 3_000_000,
    status: 'active',
    createdAt: now,
    rotatedAt: now,
  });
}

/**
 * Cold start of the built app (dist/index.js, the bundle `npm run package` ships) against a bare
 * @azure/functions app with one function, medians of fresh processes run in turn:
 * - import + register every function (goal: at most 1.5x the bare app);
 * - import + first answer of GET /api/health and of GET /api/credentials/{id}/messages (a connected
 *   mailbox, the Graph sandbox), against the bare app's import + first answer.
 */
export async function benchColdStart(runs = 7): Promise<BenchResult[]> {
  const sandbox = await startSandbox({ messagesPerUser: 20 });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-cold-start-'));
  try {
    await connect(sandbox, dataDir);
    const env = appEnv(sandbox, dataDir);
    const ours = `require(${JSON.stringify(path.join(root, 'dist/index.js'))})`;
    const bare = `require('@azure/functions').app.http('hello', { handler: async () => ({ body: 'hi' }) })`;
    const health: FirstRequest = { name: 'health', path: '/api/health' };
    const messages: FirstRequest = {
      name: 'listMessages',
      path: '/api/credentials/c1/messages?top=10',
      params: { credentialId: 'c1' },
    };
    const samples = { register: [] as number[], bare: [] as number[], bareAnswer: [] as number[] };
    const answers = { health: [] as number[], messages: [] as number[] };
    for (let i = 0; i < runs; i++) {
      samples.register.push((await run(childScript(ours, undefined), env)).importMs);
      samples.bare.push((await run(childScript(bare, undefined), env)).importMs);
      const bareFirst = await run(childScript(bare, { name: 'hello', path: '/api/hello' }), env);
      samples.bareAnswer.push(bareFirst.answerMs!);
      for (const [key, request] of [
        ['health', health],
        ['messages', messages],
      ] as const) {
        const first = await run(childScript(ours, request), env);
        if (first.status !== 200) throw new Error(`${request.path} answered ${first.status}`);
        answers[key].push(first.answerMs!);
      }
    }
    const bareImport = median(samples.bare);
    const bareAnswer = median(samples.bareAnswer);
    return [
      {
        name: 'cold start: import the built app, every function registered (goal <= 1.5x)',
        value: median(samples.register),
        unit: 'ms',
        baseline: bareImport,
        baselineName: 'bare @azure/functions app with one function',
      },
      {
        name: 'cold start: import + first GET /api/health answered',
        value: median(answers.health),
        unit: 'ms',
        baseline: bareAnswer,
        baselineName: "bare app's import + first answer",
      },
      {
        name: 'cold start: import + first GET /api/credentials/{id}/messages answered',
        value: median(answers.messages),
        unit: 'ms',
        baseline: bareAnswer,
        baselineName: "bare app's import + first answer",
      },
    ];
  } finally {
    await sandbox.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
