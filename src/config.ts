import { createHash } from 'node:crypto';
import path from 'node:path';

import * as z from 'zod';

import { ConfigError, type FieldError } from './core/errors';
import { type LogLevel } from './core/logger';
import { emailAddress, idSchema, isId } from './core/validators';

/**
 * Every setting the app reads, in one place. `requiredInAzure` settings must be present in the
 * deployed app settings (the infra tests check `infra/` against this list).
 */
export const SETTINGS = {
  GRAPH_BASE_URL: {
    requiredInAzure: false,
    doc: 'Microsoft Graph root (national clouds, the local sandbox)',
  },
  AUTHORITY_HOST: { requiredInAzure: false, doc: 'Microsoft identity platform root' },
  TENANT_ID: { requiredInAzure: true, doc: 'Entra tenant for token requests' },
  CLIENT_ID: { requiredInAzure: true, doc: 'Entra app registration (client) id' },
  CLIENT_SECRET: { requiredInAzure: true, doc: 'client secret; a Key Vault reference in Azure' },
  KEY_VAULT_URL: { requiredInAzure: true, doc: 'vault holding credential records' },
  KEY_VAULT_KEY_NAME: {
    requiredInAzure: true,
    doc: 'Key Vault key (RSA) that wraps the data keys of credential records',
  },
  API_KEYS: { requiredInAzure: false, doc: 'API-key callers: serviceId=sha256hex(key),…' },
  API_AUDIENCE: {
    requiredInAzure: false,
    doc: 'accepted `aud` of Bearer callers (comma-separated)',
  },
  API_TENANT_ID: { requiredInAzure: false, doc: 'tenant whose tokens Bearer callers present' },
  API_CALLERS: {
    requiredInAzure: false,
    doc: 'Bearer callers without an app role: appId=serviceId,…',
  },
  PUBLIC_BASE_URL: { requiredInAzure: true, doc: "this app's public origin (OAuth redirect URI)" },
  LOCAL_DATA_DIR: { requiredInAzure: false, doc: 'local encrypted store folder (dev only)' },
  GRAPH_SCOPES: { requiredInAzure: false, doc: 'delegated scopes requested when connecting' },
  SEND_RATE_PER_MINUTE: { requiredInAzure: false, doc: 'messages per minute per sending mailbox' },
  DAILY_RECIPIENT_LIMIT: { requiredInAzure: false, doc: 'recipients per rolling 24 h per mailbox' },
  MAX_MESSAGE_SIZE_MB: {
    requiredInAzure: false,
    doc: "largest message in MiB (tenant's MaxSendSize)",
  },
  REQUEST_BUDGET_SECONDS: { requiredInAzure: false, doc: 'time budget of one HTTP invocation' },
  AzureWebJobsStorage: {
    requiredInAzure: false,
    doc: 'Functions storage (or the __ identity settings)',
  },
  REPORT_SCHEDULE: { requiredInAzure: false, doc: 'NCRONTAB of the report timer' },
  REPORTS: { requiredInAzure: false, doc: 'JSON array of report definitions' },
  KEEPALIVE_SCHEDULE: {
    requiredInAzure: false,
    doc: 'NCRONTAB of the credential keep-alive timer',
  },
  KEEPALIVE_IDLE_DAYS: {
    requiredInAzure: false,
    doc: 'refresh credentials unused for this many days',
  },
  LOG_LEVEL: {
    requiredInAzure: false,
    doc: "lowest level of the app's own log (debug, info, warn, error); host.json filters invocations",
  },
  CONNECT_PROMPT: {
    requiredInAzure: false,
    doc: 'sign-in prompt of a connect link: `select_account` or `consent`',
  },
  SERVICE_NAMES: {
    requiredInAzure: false,
    doc: 'JSON object serviceId → name shown when a mailbox owner confirms a connection',
  },
  NOTIFICATIONS_SCHEDULE: {
    requiredInAzure: false,
    doc: 'NCRONTAB of the timer renewing Graph subscriptions and catching up folders',
  },
  WEBHOOK_RETRY_HOURS: {
    requiredInAzure: false,
    doc: 'hours a failing webhook delivery is retried before it is dead-lettered',
  },
} as const;

export type SettingName = keyof typeof SETTINGS;

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NCRONTAB_PATTERN = /^\S+(\s+\S+){5}$/;

export const DEFAULT_SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send'];

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** An http(s) origin; plain http only for loopback hosts. Trailing slashes are dropped. */
const baseUrl = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a URL` });
    return z.NEVER;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'must be https:// (http:// only for loopback hosts)' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must be an https:// URL' });
    return z.NEVER;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not have a query or fragment' });
    return z.NEVER;
  }
  return url.toString().replace(/\/+$/, '');
});

const positiveInt = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

const apiKeys = z.string().transform((value, ctx) => {
  const byHash = new Map<string, string>();
  for (const [index, entry] of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .entries()) {
    const match = /^([^=]+)=([0-9a-fA-F]{64})$/.exec(entry);
    if (!match || !isId(match[1]!)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${index + 1} must be serviceId=<64 hex chars of sha256(key)>`,
      });
      return z.NEVER;
    }
    byHash.set(match[2]!.toLowerCase(), match[1]!);
  }
  return byHash;
});

const callerMap = z.string().transform((value, ctx) => {
  const map = new Map<string, string>();
  for (const [index, entry] of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .entries()) {
    const match = /^([^=\s]+)=([^=]+)$/.exec(entry);
    if (!match || !isId(match[2]!)) {
      ctx.addIssue({ code: 'custom', message: `entry ${index + 1} must be appId=serviceId` });
      return z.NEVER;
    }
    map.set(match[1]!.toLowerCase(), match[2]!);
  }
  return map;
});

const list = z.string().transform((value) =>
  value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean),
);

/** Checked at start-up: an unknown zone would otherwise fail the report in the middle of a run. */
function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const reportDefinitionSchema = z.strictObject({
  id: idSchema,
  serviceId: idSchema,
  credentialId: idSchema,
  recipients: z.array(emailAddress()).min(1, 'needs at least one recipient'),
  periodDays: z.number().int().min(1).max(92).default(7),
  folders: z.array(z.string().min(1)).min(1).default(['inbox']),
  title: z.string().min(1).max(200),
  /** Threads whose last message is from someone else and older than this await a reply. */
  awaitingReplyHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** IANA time zone for per-day and per-hour figures. */
  timeZone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin')
    .default('UTC'),
});

export type ReportDefinition = z.infer<typeof reportDefinitionSchema>;

/** A setting holding JSON: the parsed value, or an issue naming the parse error. */
function parseJsonSetting(
  value: string,
  ctx: z.RefinementCtx,
): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(value) };
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `is not valid JSON (${(error as Error).message})` });
    return { ok: false };
  }
}

const reports = z.string().transform((value, ctx) => {
  const json = parseJsonSetting(value, ctx);
  if (!json.ok) return z.NEVER;
  const parsed = json.value;
  if (!Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON array of report definitions' });
    return z.NEVER;
  }
  const definitions: ReportDefinition[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of parsed.entries()) {
    const result = reportDefinitionSchema.safeParse(entry);
    const name =
      typeof (entry as { id?: unknown })?.id === 'string'
        ? ` (${(entry as { id: string }).id})`
        : '';
    if (!result.success) {
      for (const issue of result.error.issues) {
        ctx.addIssue({
          code: 'custom',
          message: `entry ${index}${name} field ${issue.path.join('.') || '(entry)'}: ${issue.message}`,
        });
      }
      continue;
    }
    const key = `${result.data.serviceId}/${result.data.id}`;
    if (seen.has(key)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${index}${name}: duplicate id ${result.data.id}`,
      });
    }
    seen.add(key);
    definitions.push(result.data);
  }
  return definitions;
});

/** `{"serviceId":"Display name"}`: what a mailbox owner is shown before confirming a connection. */
const serviceNames = z.string().transform((value, ctx) => {
  const json = parseJsonSetting(value, ctx);
  if (!json.ok) return z.NEVER;
  const parsed = json.value;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object {"serviceId":"Display name"}' });
    return z.NEVER;
  }
  const names = new Map<string, string>();
  for (const [serviceId, name] of Object.entries(parsed)) {
    if (!isId(serviceId) || typeof name !== 'string' || !/^[^\p{C}]{1,100}$/u.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${JSON.stringify(serviceId.slice(0, 64))} must map a service id to a name of 1-100 printable characters`,
      });
      return z.NEVER;
    }
    names.set(serviceId, name.trim() || serviceId);
  }
  return names;
});

const envSchema = z.object({
  GRAPH_BASE_URL: baseUrl.default('https://graph.microsoft.com'),
  AUTHORITY_HOST: baseUrl.default('https://login.microsoftonline.com'),
  TENANT_ID: z
    .string()
    .regex(
      /^(common|organizations|consumers|[0-9a-f-]{36}|[A-Za-z0-9.-]+\.[A-Za-z]{2,})$/i,
      'must be a tenant id, domain, common, organizations or consumers',
    )
    .default('organizations'),
  CLIENT_ID: z
    .string()
    .regex(GUID_PATTERN, 'must be a GUID (the app registration client id)')
    .optional(),
  CLIENT_SECRET: z.string().min(1).optional(),
  KEY_VAULT_URL: baseUrl.optional(),
  KEY_VAULT_KEY_NAME: z
    .string()
    .regex(/^[0-9A-Za-z-]{1,127}$/, 'must be a Key Vault key name (1-127 of 0-9, a-z, A-Z, -)')
    .optional(),
  API_KEYS: apiKeys.default(new Map()),
  API_AUDIENCE: list.optional(),
  API_TENANT_ID: z.string().regex(GUID_PATTERN, 'must be a tenant GUID').optional(),
  API_CALLERS: callerMap.default(new Map()),
  PUBLIC_BASE_URL: baseUrl.optional(),
  LOCAL_DATA_DIR: z.string().min(1).optional(),
  GRAPH_SCOPES: list.optional(),
  SEND_RATE_PER_MINUTE: positiveInt(10_000).default(30),
  DAILY_RECIPIENT_LIMIT: positiveInt(1_000_000).default(10_000),
  MAX_MESSAGE_SIZE_MB: positiveInt(150).default(35),
  REQUEST_BUDGET_SECONDS: positiveInt(220).default(100),
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__accountName: z.string().min(3).optional(),
  AzureWebJobsStorage__blobServiceUri: baseUrl.optional(),
  AzureWebJobsStorage__queueServiceUri: baseUrl.optional(),
  AzureWebJobsStorage__tableServiceUri: baseUrl.optional(),
  AzureWebJobsStorage__clientId: z.string().min(1).optional(),
  REPORT_SCHEDULE: z
    .string()
    .regex(NCRONTAB_PATTERN, 'must be a 6-field NCRONTAB expression')
    .default('0 0 8 * * 1'),
  REPORTS: reports.default([]),
  KEEPALIVE_SCHEDULE: z
    .string()
    .regex(NCRONTAB_PATTERN, 'must be a 6-field NCRONTAB expression')
    .default('0 30 3 * * *'),
  KEEPALIVE_IDLE_DAYS: positiveInt(80).default(30),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })
    .default('info'),
  CONNECT_PROMPT: z
    .enum(['select_account', 'consent'], { message: 'must be select_account or consent' })
    .default('select_account'),
  SERVICE_NAMES: serviceNames.default(new Map()),
  NOTIFICATIONS_SCHEDULE: z
    .string()
    .regex(NCRONTAB_PATTERN, 'must be a 6-field NCRONTAB expression')
    .default('0 */30 * * * *'),
  WEBHOOK_RETRY_HOURS: positiveInt(72).default(24),
  AZURE_FUNCTIONS_ENVIRONMENT: z.string().optional(),
  WEBSITE_SITE_NAME: z.string().optional(),
  AZURE_CLIENT_ID: z.string().optional(),
  WEBSITE_HOSTNAME: z.string().optional(),
});

export type StorageConfig =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobUrl: string; queueUrl: string; tableUrl: string; clientId?: string };

export interface Config {
  graphBaseUrl: string;
  authorityHost: string;
  tenantId: string;
  /** Unset only in local sandbox mode before the local host fills it in. */
  clientId: string | undefined;
  clientSecret: string | undefined;
  keyVaultUrl: string | undefined;
  /** Key that wraps the data keys (with KEY_VAULT_URL); unset = data keys stored unwrapped. */
  keyVaultKeyName: string | undefined;
  /** sha256 hex of an API key → serviceId. */
  apiKeys: ReadonlyMap<string, string>;
  bearer:
    | { audiences: readonly string[]; tenantId: string; callers: ReadonlyMap<string, string> }
    | undefined;
  publicBaseUrl: string;
  localDataDir: string;
  scopes: readonly string[];
  sendRatePerMinute: number;
  dailyRecipientLimit: number;
  maxMessageSizeBytes: number;
  requestBudgetMs: number;
  /** Lowest level the process log (outside invocations) writes. */
  logLevel: LogLevel;
  storage: StorageConfig | undefined;
  reportSchedule: string;
  reports: readonly ReportDefinition[];
  keepAliveSchedule: string;
  keepAliveIdleDays: number;
  /** `prompt` of the authorize request a connect link starts. */
  connectPrompt: 'select_account' | 'consent';
  /** Display names of services (mailbox owners see them before confirming a connection). */
  serviceNames: ReadonlyMap<string, string>;
  notificationsSchedule: string;
  webhookRetryMs: number;
  /** True when running in Azure as production (the local store refuses to run there). */
  isProduction: boolean;
  managedIdentityClientId: string | undefined;
}

export interface LoadConfigOptions {
  /** Origin of the local host, used for PUBLIC_BASE_URL when it is unset. */
  localBaseUrl?: string;
  /** Project folder, for the default LOCAL_DATA_DIR. */
  projectDir?: string;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!(value instanceof Map)) for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Reads and validates every setting once. Collects all problems into one ConfigError whose
 * message has one line per setting, naming it and what is wrong.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions = {},
): Config {
  // Empty strings count as unset: app settings often carry "" for optional values.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => ({
        path: String(issue.path[0] ?? '(settings)'),
        message: issue.message,
      })),
    );
  }
  const e = result.data;
  const problems: FieldError[] = [];
  const isProduction =
    (e.AZURE_FUNCTIONS_ENVIRONMENT ?? (e.WEBSITE_SITE_NAME ? 'Production' : 'Development')) ===
    'Production';

  if (isProduction && !e.CLIENT_ID) {
    problems.push({ path: 'CLIENT_ID', message: 'is required (the Entra app registration)' });
  }
  if (e.CLIENT_ID && !e.CLIENT_SECRET) {
    problems.push({ path: 'CLIENT_SECRET', message: 'is required when CLIENT_ID is set' });
  }
  if (isProduction && !e.KEY_VAULT_URL) {
    problems.push({
      path: 'KEY_VAULT_URL',
      message: 'is required in production (the local store is dev only)',
    });
  }
  // In Azure the host's own name is a safe default for the OAuth redirect origin.
  const publicBaseUrl =
    e.PUBLIC_BASE_URL ??
    (e.WEBSITE_HOSTNAME ? `https://${e.WEBSITE_HOSTNAME}` : undefined) ??
    options.localBaseUrl;
  if (!publicBaseUrl) {
    problems.push({
      path: 'PUBLIC_BASE_URL',
      message: 'is required (the OAuth redirect URI is built from it)',
    });
  }

  let bearer: Config['bearer'];
  const audiences =
    e.API_AUDIENCE ?? (e.CLIENT_ID ? [`api://${e.CLIENT_ID}`, e.CLIENT_ID] : undefined);
  const apiTenant = e.API_TENANT_ID ?? (GUID_PATTERN.test(e.TENANT_ID) ? e.TENANT_ID : undefined);
  if (audiences && apiTenant) {
    bearer = { audiences, tenantId: apiTenant, callers: e.API_CALLERS };
  } else if (e.API_AUDIENCE) {
    problems.push({
      path: 'API_TENANT_ID',
      message: 'is required for Bearer callers when TENANT_ID is not a tenant GUID',
    });
  }

  let storage: StorageConfig | undefined;
  if (e.AzureWebJobsStorage) {
    storage = { kind: 'connectionString', connectionString: e.AzureWebJobsStorage };
  } else if (e.AzureWebJobsStorage__accountName || e.AzureWebJobsStorage__blobServiceUri) {
    const account = e.AzureWebJobsStorage__accountName;
    const uri = (service: string, explicit: string | undefined) =>
      explicit ?? `https://${account}.${service}.core.windows.net`;
    storage = {
      kind: 'identity',
      blobUrl: uri('blob', e.AzureWebJobsStorage__blobServiceUri),
      queueUrl: uri('queue', e.AzureWebJobsStorage__queueServiceUri),
      tableUrl: uri('table', e.AzureWebJobsStorage__tableServiceUri),
      ...(e.AzureWebJobsStorage__clientId ? { clientId: e.AzureWebJobsStorage__clientId } : {}),
    };
    if (
      !account &&
      !(e.AzureWebJobsStorage__queueServiceUri && e.AzureWebJobsStorage__tableServiceUri)
    ) {
      problems.push({
        path: 'AzureWebJobsStorage__accountName',
        message: 'is required unless every __*ServiceUri setting is given',
      });
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze<Config>({
    graphBaseUrl: e.GRAPH_BASE_URL,
    authorityHost: e.AUTHORITY_HOST,
    tenantId: e.TENANT_ID,
    clientId: e.CLIENT_ID,
    clientSecret: e.CLIENT_SECRET,
    keyVaultUrl: e.KEY_VAULT_URL,
    keyVaultKeyName: e.KEY_VAULT_KEY_NAME,
    apiKeys: e.API_KEYS,
    bearer,
    publicBaseUrl: publicBaseUrl!,
    localDataDir: path.resolve(options.projectDir ?? process.cwd(), e.LOCAL_DATA_DIR ?? '.local'),
    scopes: e.GRAPH_SCOPES ?? DEFAULT_SCOPES,
    sendRatePerMinute: e.SEND_RATE_PER_MINUTE,
    dailyRecipientLimit: e.DAILY_RECIPIENT_LIMIT,
    maxMessageSizeBytes: e.MAX_MESSAGE_SIZE_MB * 1024 * 1024,
    requestBudgetMs: e.REQUEST_BUDGET_SECONDS * 1000,
    logLevel: e.LOG_LEVEL,
    storage,
    reportSchedule: e.REPORT_SCHEDULE,
    reports: e.REPORTS,
    keepAliveSchedule: e.KEEPALIVE_SCHEDULE,
    keepAliveIdleDays: e.KEEPALIVE_IDLE_DAYS,
    connectPrompt: e.CONNECT_PROMPT,
    serviceNames: e.SERVICE_NAMES,
    notificationsSchedule: e.NOTIFICATIONS_SCHEDULE,
    webhookRetryMs: e.WEBHOOK_RETRY_HOURS * 3600_000,
    isProduction,
    managedIdentityClientId: e.AZURE_CLIENT_ID ?? e.AzureWebJobsStorage__clientId,
  });
}

/** sha256 hex of an API key, the form API_KEYS holds. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
