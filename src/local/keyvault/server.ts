/**
 * A Key-Vault-compatible secrets endpoint for tests and local runs, driven by the real
 * `@azure/keyvault-secrets` SecretClient: HTTPS with a self-signed certificate, challenge-based
 * auth, versions, paging, attribute PATCH, soft delete with recover/purge, 409 on reusing a
 * soft-deleted name, and fault injection (429 throttling, 5xx, delays). RSA keys too (create, get,
 * wrapKey/unwrapKey, for the real CryptographyClient; ./keys.ts). Never deployed.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import selfsigned from 'selfsigned';

import { createKeyOperations } from './keys';
import { KvError } from './kv-error';

export interface KeyVaultFault {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Substring of the path to match (any when absent). */
  path?: string;
  status: number;
  /** Service error code in the body (default per status: Throttled, InternalServerError …). */
  code?: string;
  retryAfterSeconds?: number;
  /** How many matching requests fail (default 1; Infinity for all). */
  times?: number;
  /** Delay before answering (a slow vault). */
  delayMs?: number;
}

export interface KeyVaultRequestLogEntry {
  method: string;
  path: string;
  apiVersion: string | null;
  status: number;
  authorized: boolean;
}

export interface LocalKeyVaultOptions {
  port?: number;
  tenantId?: string;
  /** Plain http (with the client's allowInsecureConnection) instead of TLS. */
  insecure?: boolean;
  /** Largest page of list results (default 25, like the service). */
  pageSize?: number;
  /** Accepts a Bearer token; default: any non-empty token. */
  acceptToken?: (token: string) => boolean;
}

export interface LocalKeyVault {
  url: string;
  /** PEM of the self-signed certificate (undefined when insecure). */
  ca: string | undefined;
  /** An https.Agent trusting `ca`, for the SecretClient's `agent` option. */
  agent: https.Agent | undefined;
  tenantId: string;
  control: {
    injectFault(fault: KeyVaultFault): void;
    clearFaults(): void;
    requestLog(): KeyVaultRequestLogEntry[];
    clearRequestLog(): void;
    /** Names (as created) of live secrets. */
    secretNames(): string[];
    /** Raw stored value of the latest version (tests that tamper with records). */
    rawValue(name: string): string | undefined;
    /** Writes a raw value as a new version, keeping the latest tags (tamper tests). */
    putRaw(name: string, value: string, tags?: Record<string, string>): void;
    versionCount(name: string): number;
  };
  close(): Promise<void>;
}

interface Attributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  recoveryLevel: string;
  recoverableDays: number;
}

interface Version {
  id: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  attributes: Attributes;
}

interface Secret {
  name: string;
  versions: Version[];
}

interface DeletedSecret extends Secret {
  deletedDate: number;
  scheduledPurgeDate: number;
}

const NAME = /^[0-9A-Za-z-]{1,127}$/;
const MAX_VALUE_BYTES = 25 * 1024;
const RETENTION_DAYS = 90;
const DEFAULT_CODES: Record<number, string> = {
  429: 'Throttled',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

const nowSeconds = () => Math.floor(Date.now() / 1000);

export async function startKeyVaultServer(
  options: LocalKeyVaultOptions = {},
): Promise<LocalKeyVault> {
  const tenantId = options.tenantId ?? '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const pageSize = options.pageSize ?? 25;
  const acceptToken = options.acceptToken ?? ((t: string) => t.length > 0);
  const secrets = new Map<string, Secret>();
  const deleted = new Map<string, DeletedSecret>();
  const faults: Array<KeyVaultFault & { left: number }> = [];
  const log: KeyVaultRequestLogEntry[] = [];
  let origin = '';
  const keys = createKeyOperations(() => origin);

  const bundle = (s: Secret, v: Version) => ({
    value: v.value,
    id: `${origin}/secrets/${s.name}/${v.id}`,
    ...(v.contentType === undefined ? {} : { contentType: v.contentType }),
    ...(v.tags === undefined ? {} : { tags: v.tags }),
    attributes: v.attributes,
  });
  const item = (s: Secret, v: Version, withVersion: boolean) => ({
    id: withVersion ? `${origin}/secrets/${s.name}/${v.id}` : `${origin}/secrets/${s.name}`,
    ...(v.contentType === undefined ? {} : { contentType: v.contentType }),
    ...(v.tags === undefined ? {} : { tags: v.tags }),
    attributes: v.attributes,
  });
  const deletedBundle = (d: DeletedSecret, withValue: boolean) => {
    const latest = d.versions.at(-1)!;
    const base = withValue ? bundle(d, latest) : item(d, latest, false);
    return {
      ...base,
      ...(withValue ? {} : { id: `${origin}/secrets/${d.name}` }),
      recoveryId: `${origin}/deletedsecrets/${d.name}`,
      deletedDate: d.deletedDate,
      scheduledPurgeDate: d.scheduledPurgeDate,
    };
  };

  function notFound(name: string): KvError {
    return new KvError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name} was not found in this key vault.`,
    );
  }

  function live(name: string): Secret {
    const s = secrets.get(name.toLowerCase());
    if (!s) throw notFound(name);
    return s;
  }

  function version(s: Secret, id: string): Version {
    const v = id ? s.versions.find((x) => x.id === id) : s.versions.at(-1);
    if (!v) throw notFound(`${s.name}/${id}`);
    return v;
  }

  function page<T>(url: URL, all: T[]): { value: T[]; nextLink: string | null } {
    const max = Math.min(
      Number(url.searchParams.get('maxresults') ?? pageSize) || pageSize,
      pageSize,
    );
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0) || 0;
    const value = all.slice(skip, skip + max);
    let nextLink: string | null = null;
    if (skip + max < all.length) {
      const next = new URL(url.pathname, origin);
      next.searchParams.set('api-version', url.searchParams.get('api-version') ?? '');
      next.searchParams.set('$skiptoken', String(skip + max));
      next.searchParams.set('maxresults', String(max));
      nextLink = next.toString();
    }
    return { value, nextLink };
  }

  function applyAttributes(target: Attributes, input: Partial<Attributes> | undefined): void {
    if (!input) return;
    if (typeof input.enabled === 'boolean') target.enabled = input.enabled;
    if (typeof input.nbf === 'number') target.nbf = input.nbf;
    if (typeof input.exp === 'number') target.exp = input.exp;
  }

  function handle(method: string, url: URL, body: Record<string, unknown>): [number, unknown] {
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const [collection, rawName, sub, extra] = parts;
    const name = rawName ?? '';
    if (collection === 'secrets') {
      if (!name) {
        if (method !== 'GET') throw new KvError(405, 'MethodNotAllowed', 'Method not allowed.');
        const all = [...secrets.values()].map((s) => item(s, s.versions.at(-1)!, false));
        return [200, page(url, all)];
      }
      if (!NAME.test(name)) {
        throw new KvError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
      }
      if (method === 'PUT' && sub === undefined) {
        if (typeof body.value !== 'string') {
          throw new KvError(400, 'BadParameter', 'The parameter value must be provided.');
        }
        if (Buffer.byteLength(body.value, 'utf8') > MAX_VALUE_BYTES) {
          throw new KvError(400, 'BadParameter', 'The secret value exceeds the maximum size.');
        }
        if (deleted.has(name.toLowerCase())) {
          throw new KvError(
            409,
            'Conflict',
            `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
            'ObjectIsDeletedButRecoverable',
          );
        }
        const now = nowSeconds();
        const v: Version = {
          id: randomBytes(16).toString('hex'),
          value: body.value,
          ...(typeof body.contentType === 'string' ? { contentType: body.contentType } : {}),
          ...(body.tags && typeof body.tags === 'object'
            ? { tags: body.tags as Record<string, string> }
            : {}),
          attributes: {
            enabled: true,
            created: now,
            updated: now,
            recoveryLevel: 'Recoverable+Purgeable',
            recoverableDays: RETENTION_DAYS,
          },
        };
        applyAttributes(v.attributes, body.attributes as Partial<Attributes> | undefined);
        const s = secrets.get(name.toLowerCase()) ?? { name, versions: [] };
        s.versions.push(v);
        secrets.set(name.toLowerCase(), s);
        return [200, bundle(s, v)];
      }
      if (method === 'DELETE' && sub === undefined) {
        const s = live(name);
        secrets.delete(name.toLowerCase());
        const d: DeletedSecret = {
          ...s,
          deletedDate: nowSeconds(),
          scheduledPurgeDate: nowSeconds() + RETENTION_DAYS * 86_400,
        };
        deleted.set(name.toLowerCase(), d);
        return [200, deletedBundle(d, false)];
      }
      const s = live(name);
      if (method === 'GET' && sub === 'versions' && extra === undefined) {
        return [
          200,
          page(
            url,
            s.versions.map((v) => item(s, v, true)),
          ),
        ];
      }
      if (extra !== undefined) throw notFound(name);
      const v = version(s, sub ?? '');
      if (method === 'GET') {
        if (!v.attributes.enabled) {
          throw new KvError(
            403,
            'Forbidden',
            'Operation get is not allowed on a disabled secret.',
            'SecretDisabled',
          );
        }
        return [200, bundle(s, v)];
      }
      if (method === 'PATCH') {
        applyAttributes(v.attributes, body.attributes as Partial<Attributes> | undefined);
        if (typeof body.contentType === 'string') v.contentType = body.contentType;
        if (body.tags && typeof body.tags === 'object')
          v.tags = body.tags as Record<string, string>;
        v.attributes.updated = nowSeconds();
        const { value: _value, ...rest } = bundle(s, v);
        return [200, rest];
      }
      throw new KvError(405, 'MethodNotAllowed', 'Method not allowed.');
    }
    if (collection === 'deletedsecrets') {
      if (!name) {
        if (method !== 'GET') throw new KvError(405, 'MethodNotAllowed', 'Method not allowed.');
        return [
          200,
          page(
            url,
            [...deleted.values()].map((d) => deletedBundle(d, false)),
          ),
        ];
      }
      const d = deleted.get(name.toLowerCase());
      if (!d) {
        throw new KvError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
      }
      if (method === 'GET' && sub === undefined) return [200, deletedBundle(d, false)];
      if (method === 'DELETE' && sub === undefined) {
        deleted.delete(name.toLowerCase());
        return [204, undefined];
      }
      if (method === 'POST' && sub === 'recover') {
        deleted.delete(name.toLowerCase());
        const s: Secret = { name: d.name, versions: d.versions };
        secrets.set(name.toLowerCase(), s);
        const { value: _value, ...rest } = bundle(s, s.versions.at(-1)!);
        return [200, rest];
      }
      throw new KvError(405, 'MethodNotAllowed', 'Method not allowed.');
    }
    if (collection === 'keys') return keys.handle(method, name, sub, extra, body);
    throw new KvError(404, 'NotFound', 'The requested resource was not found.');
  }

  function matchFault(method: string, path: string) {
    const index = faults.findIndex(
      (f) => f.left > 0 && (!f.method || f.method === method) && (!f.path || path.includes(f.path)),
    );
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.left--;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  }

  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const method = req.method ?? 'GET';
        // URL parsing decodes the SDK's percent-encoded key (`api%2Dversion`).
        const url = new URL(req.url ?? '/', origin);
        const apiVersion = url.searchParams.get('api-version');
        const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
        const authorized = token !== undefined && acceptToken(token);
        const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
          log.push({ method, path: url.pathname, apiVersion, status, authorized });
          res.writeHead(status, {
            ...(payload === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
            'x-ms-request-id': randomBytes(8).toString('hex'),
            ...headers,
          });
          res.end(payload === undefined ? undefined : JSON.stringify(payload));
        };
        if (!authorized) {
          return send(
            401,
            {
              error: {
                code: 'Unauthorized',
                message: 'AKV10000: Request is missing a Bearer or PoP token.',
              },
            },
            {
              'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${tenantId}", resource="https://vault.azure.net"`,
            },
          );
        }
        if (!apiVersion) {
          return send(400, {
            error: { code: 'BadParameter', message: 'The api-version query parameter is missing.' },
          });
        }
        const fault = matchFault(method, url.pathname);
        if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
        if (fault && fault.status >= 400) {
          return send(
            fault.status,
            {
              error: {
                code: fault.code ?? DEFAULT_CODES[fault.status] ?? 'Error',
                message:
                  fault.status === 429
                    ? 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached'
                    : 'Injected failure.',
              },
            },
            fault.retryAfterSeconds === undefined
              ? {}
              : { 'retry-after': String(fault.retryAfterSeconds) },
          );
        }
        let body: Record<string, unknown> = {};
        if (chunks.length > 0) {
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            return send(400, { error: { code: 'BadParameter', message: 'The body is not JSON.' } });
          }
        }
        try {
          const [status, payload] = handle(method, url, body);
          send(status, payload);
        } catch (error) {
          if (!(error instanceof KvError)) throw error;
          send(error.status, {
            error: {
              code: error.code,
              message: error.message,
              ...(error.inner ? { innererror: { code: error.inner } } : {}),
            },
          });
        }
      })().catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  };

  let ca: string | undefined;
  let server: http.Server | https.Server;
  if (options.insecure) {
    server = http.createServer(listener);
  } else {
    const pems = selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      days: 2,
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ],
    });
    ca = pems.cert;
    server = https.createServer({ key: pems.private, cert: pems.cert }, listener);
  }
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  origin = `${options.insecure ? 'http' : 'https'}://127.0.0.1:${port}`;
  const agent = ca ? new https.Agent({ ca, keepAlive: true }) : undefined;

  return {
    url: origin,
    ca,
    agent,
    tenantId,
    control: {
      injectFault: (fault) => void faults.push({ ...fault, left: fault.times ?? 1 }),
      clearFaults: () => void faults.splice(0),
      requestLog: () => [...log],
      clearRequestLog: () => void log.splice(0),
      secretNames: () => [...secrets.values()].map((s) => s.name),
      rawValue: (name) => secrets.get(name.toLowerCase())?.versions.at(-1)?.value,
      putRaw(name, value, tags) {
        const s = live(name);
        const latest = s.versions.at(-1)!;
        s.versions.push({
          ...latest,
          id: randomBytes(16).toString('hex'),
          value,
          ...(tags ? { tags } : {}),
          attributes: { ...latest.attributes, enabled: true, updated: nowSeconds() },
        });
      },
      versionCount: (name) => secrets.get(name.toLowerCase())?.versions.length ?? 0,
    },
    async close() {
      agent?.destroy();
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
