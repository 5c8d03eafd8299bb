import { createHash } from 'node:crypto';
import path from 'node:path';

import { ConfigError, type FieldError } from './core/errors';
import { type LogLevel } from './core/logger';
import { ID_RULE, isEmailAddress, isId } from './core/identifiers';

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
  CLIENT_SECRET: {
    requiredInAzure: false,
    doc: 'client secret; a Key Vault reference in Azure (unused when CLIENT_CERTIFICATE is set)',
  },
  CLIENT_CERTIFICATE: {
    requiredInAzure: false,
    doc: 'PEM private key + certificate signing client assertions; a Key Vault certificate reference in Azure (wins over CLIENT_SECRET)',
  },
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
    doc: "largest message in decimal MB as Exchange counts it, encoded (tenant's MaxSendSize)",
  },
  REQUEST_BUDGET_SECONDS: { requiredInAzure: false, doc: 'time budget of one HTTP invocation' },
  MAILBOX_SLOTS: {
    requiredInAzure: false,
    doc: "whose the 4 concurrent Graph requests per mailbox are: `shared` by every instance (slot leases in storage) or each `instance`'s own",
  },
  SEND_LOST_ANSWER_SECONDS: {
    requiredInAzure: false,
    doc: 'how long a send whose answer was lost (timeout, 5xx) is looked for before its outcome is unknown',
  },
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
const NCRONTAB_RULE = 'must be a 6-field NCRONTAB expression';

export const DEFAULT_SCOPES = ['offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send'];

// Settings are checked by hand rather than with zod: config is read while the host loads the app,
// and evaluating zod there would cost more than the whole rest of a cold start.

/** Turns one setting's text into its value, calling `fail` for each thing wrong with it. */
type Parse<T> = (value: string, fail: (message: string) => void) => T;

const text: Parse<string> = (value) => value;

const matching =
  (pattern: RegExp, message: string): Parse<string> =>
  (value, fail) => {
    if (!pattern.test(value)) fail(message);
    return value;
  };

const oneOf =
  <T extends string>(values: readonly T[], message: string): Parse<T> =>
  (value, fail) => {
    if (!(values as readonly string[]).includes(value)) fail(message);
    return value as T;
  };

const minLength =
  (min: number): Parse<string> =>
  (value, fail) => {
    if (value.length < min) fail(`must be at least ${min} characters`);
    return value;
  };

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** An http(s) origin; plain http only for loopback hosts. Trailing slashes are dropped. */
const baseUrl: Parse<string> = (value, fail) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`"${value}" is not a URL`);
    return value;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    fail('must be https:// (http:// only for loopback hosts)');
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail('must be an https:// URL');
  } else if (url.search || url.hash) {
    fail('must not have a query or fragment');
  }
  return url.toString().replace(/\/+$/, '');
};

const positiveInt =
  (max: number): Parse<number> =>
  (value, fail) => {
    if (!/^\d+$/.test(value)) {
      fail('must be a whole number');
      return 0;
    }
    const number = Number(value);
    if (number < 1 || number > max) fail(`must be from 1 to ${max}`);
    return number;
  };

/** Comma-separated entries, blanks ignored. */
const entries = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const apiKeys: Parse<Map<string, string>> = (value, fail) => {
  const byHash = new Map<string, string>();
  for (const [index, entry] of entries(value).entries()) {
    const match = /^([^=]+)=([0-9a-fA-F]{64})$/.exec(entry);
    if (!match || !isId(match[1]!)) {
      fail(`entry ${index + 1} must be serviceId=<64 hex chars of sha256(key)>`);
      break;
    }
    byHash.set(match[2]!.toLowerCase(), match[1]!);
  }
  return byHash;
};

const callerMap: Parse<Map<string, string>> = (value, fail) => {
  const map = new Map<string, string>();
  for (const [index, entry] of entries(value).entries()) {
    const match = /^([^=\s]+)=([^=]+)$/.exec(entry);
    if (!match || !isId(match[2]!)) {
      fail(`entry ${index + 1} must be appId=serviceId`);
      break;
    }
    map.set(match[1]!.toLowerCase(), match[2]!);
  }
  return map;
};

const list: Parse<string[]> = (value) =>
  value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Checked at start-up: an unknown zone would otherwise fail the report in the middle of a run. */
function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export interface ReportDefinition {
  id: string;
  serviceId: string;
  credentialId: string;
  recipients: string[];
  periodDays: number;
  folders: string[];
  title: string;
  /** Threads whose last message is from someone else and older than this await a reply. */
  awaitingReplyHours: number;
  /** IANA time zone for per-day and per-hour figures. */
  timeZone: string;
}

const REPORT_FIELDS = new Set([
  'id',
  'serviceId',
  'credentialId',
  'recipients',
  'periodDays',
  'folders',
  'title',
  'awaitingReplyHours',
  'timeZone',
]);

/** One REPORTS entry with its defaults filled in; `fail` names the field (`(entry)`: the whole). */
function reportDefinition(
  entry: unknown,
  fail: (field: string, message: string) => void,
): ReportDefinition | undefined {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    fail('(entry)', 'must be an object');
    return undefined;
  }
  const fields = entry as Record<string, unknown>;
  const own = (key: string) => (Object.hasOwn(fields, key) ? fields[key] : undefined);
  const unknown = Object.keys(fields).filter((key) => !REPORT_FIELDS.has(key));
  if (unknown.length > 0) {
    fail('(entry)', `unknown field ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
  }
  const id = (key: string) => {
    const value = own(key);
    if (value === undefined) fail(key, 'is required');
    else if (typeof value !== 'string' || !isId(value)) fail(key, ID_RULE);
    return value as string;
  };
  const whole = (key: string, max: number, fallback: number) => {
    const value = own(key) ?? fallback;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
      fail(key, `must be a whole number from 1 to ${max}`);
    }
    return value as number;
  };
  const strings = (
    key: string,
    fallback: string[] | undefined,
    each: (item: string) => boolean,
    rule: string,
  ) => {
    const value = own(key) ?? fallback;
    if (value === undefined) fail(key, 'is required');
    else if (!Array.isArray(value)) fail(key, 'must be an array');
    else if (value.length === 0) fail(key, `needs at least one ${key.replace(/s$/, '')}`);
    else {
      for (const [index, item] of value.entries()) {
        if (typeof item !== 'string' || !each(item)) fail(`${key}.${index}`, rule);
      }
    }
    return value as string[];
  };
  const definition: ReportDefinition = {
    id: id('id'),
    serviceId: id('serviceId'),
    credentialId: id('credentialId'),
    recipients: strings('recipients', undefined, isEmailAddress, 'must be an email address'),
    periodDays: whole('periodDays', 92, 7),
    folders: strings('folders', ['inbox'], (folder) => folder.length > 0, 'must not be empty'),
    title: own('title') as string,
    awaitingReplyHours: whole('awaitingReplyHours', 24 * 30, 24),
    timeZone: (own('timeZone') ?? 'UTC') as string,
  };
  if (typeof definition.title !== 'string' || !/^.{1,200}$/su.test(definition.title)) {
    fail('title', 'must be a text of 1-200 characters');
  }
  if (typeof definition.timeZone !== 'string' || !isTimeZone(definition.timeZone)) {
    fail('timeZone', 'must be an IANA time zone such as Europe/Berlin');
  }
  return definition;
}

/** A setting holding JSON: the parsed value, or undefined after naming the parse error. */
function parseJsonSetting(value: string, fail: (message: string) => void): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    fail(`is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

const reports: Parse<ReportDefinition[]> = (value, fail) => {
  const parsed = parseJsonSetting(value, fail);
  if (parsed === undefined) return [];
  if (!Array.isArray(parsed)) {
    fail('must be a JSON array of report definitions');
    return [];
  }
  const definitions: ReportDefinition[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of parsed.entries()) {
    const id = (entry as { id?: unknown } | null)?.id;
    const name = typeof id === 'string' ? ` (${id})` : '';
    let valid = true;
    const definition = reportDefinition(entry, (field, message) => {
      valid = false;
      fail(`entry ${index}${name} field ${field}: ${message}`);
    });
    if (!valid || !definition) continue;
    const key = `${definition.serviceId}/${definition.id}`;
    if (seen.has(key)) fail(`entry ${index}${name}: duplicate id ${definition.id}`);
    seen.add(key);
    definitions.push(definition);
  }
  return definitions;
};

/** `{"serviceId":"Display name"}`: what a mailbox owner is shown before confirming a connection. */
const serviceNames: Parse<Map<string, string>> = (value, fail) => {
  const names = new Map<string, string>();
  const parsed = parseJsonSetting(value, fail);
  if (parsed === undefined) return names;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail('must be a JSON object {"serviceId":"Display name"}');
    return names;
  }
  for (const [serviceId, name] of Object.entries(parsed)) {
    if (!isId(serviceId) || typeof name !== 'string' || !/^[^\p{C}]{1,100}$/u.test(name)) {
      fail(
        `entry ${JSON.stringify(serviceId.slice(0, 64))} must map a service id to a name of 1-100 printable characters`,
      );
      break;
    }
    names.set(serviceId, name.trim() || serviceId);
  }
  return names;
};

/** Reads settings one by one, collecting every problem so start-up names them all at once. */
function settingsReader(env: Record<string, string | undefined>) {
  const problems: FieldError[] = [];
  return {
    problems,
    /** The parsed setting; undefined when unset (empty counts as unset) or wrong (a problem is kept). */
    read: <T>(name: string, parse: Parse<T>): T | undefined => {
      const value = Object.hasOwn(env, name) ? env[name] : undefined;
      // App settings often carry "" for optional values.
      if (value === undefined || value.trim() === '') return undefined;
      let failed = false;
      const parsed = parse(value, (message) => {
        failed = true;
        problems.push({ path: name, message });
      });
      return failed ? undefined : parsed;
    },
  };
}

/** Every setting, parsed, with its default; ConfigError naming each wrong one. */
function readSettings(env: Record<string, string | undefined>) {
  const { read, problems } = settingsReader(env);
  const schedule = (name: string, fallback: string) =>
    read(name, matching(NCRONTAB_PATTERN, NCRONTAB_RULE)) ?? fallback;
  const settings = {
    GRAPH_BASE_URL: read('GRAPH_BASE_URL', baseUrl) ?? 'https://graph.microsoft.com',
    AUTHORITY_HOST: read('AUTHORITY_HOST', baseUrl) ?? 'https://login.microsoftonline.com',
    TENANT_ID:
      read(
        'TENANT_ID',
        matching(
          /^(common|organizations|consumers|[0-9a-f-]{36}|[A-Za-z0-9.-]+\.[A-Za-z]{2,})$/i,
          'must be a tenant id, domain, common, organizations or consumers',
        ),
      ) ?? 'organizations',
    CLIENT_ID: read(
      'CLIENT_ID',
      matching(GUID_PATTERN, 'must be a GUID (the app registration client id)'),
    ),
    CLIENT_SECRET: read('CLIENT_SECRET', text),
    CLIENT_CERTIFICATE: read('CLIENT_CERTIFICATE', text),
    KEY_VAULT_URL: read('KEY_VAULT_URL', baseUrl),
    KEY_VAULT_KEY_NAME: read(
      'KEY_VAULT_KEY_NAME',
      matching(/^[0-9A-Za-z-]{1,127}$/, 'must be a Key Vault key name (1-127 of 0-9, a-z, A-Z, -)'),
    ),
    API_KEYS: read('API_KEYS', apiKeys) ?? new Map<string, string>(),
    API_AUDIENCE: read('API_AUDIENCE', list),
    API_TENANT_ID: read('API_TENANT_ID', matching(GUID_PATTERN, 'must be a tenant GUID')),
    API_CALLERS: read('API_CALLERS', callerMap) ?? new Map<string, string>(),
    PUBLIC_BASE_URL: read('PUBLIC_BASE_URL', baseUrl),
    LOCAL_DATA_DIR: read('LOCAL_DATA_DIR', text),
    GRAPH_SCOPES: read('GRAPH_SCOPES', list),
    SEND_RATE_PER_MINUTE: read('SEND_RATE_PER_MINUTE', positiveInt(10_000)) ?? 30,
    DAILY_RECIPIENT_LIMIT: read('DAILY_RECIPIENT_LIMIT', positiveInt(1_000_000)) ?? 10_000,
    MAX_MESSAGE_SIZE_MB: read('MAX_MESSAGE_SIZE_MB', positiveInt(150)) ?? 35,
    REQUEST_BUDGET_SECONDS: read('REQUEST_BUDGET_SECONDS', positiveInt(220)) ?? 100,
    MAILBOX_SLOTS:
      read('MAILBOX_SLOTS', oneOf(['shared', 'instance'] as const, 'must be shared or instance')) ??
      'shared',
    SEND_LOST_ANSWER_SECONDS: read('SEND_LOST_ANSWER_SECONDS', positiveInt(120)) ?? 20,
    AzureWebJobsStorage: read('AzureWebJobsStorage', text),
    AzureWebJobsStorage__accountName: read('AzureWebJobsStorage__accountName', minLength(3)),
    AzureWebJobsStorage__blobServiceUri: read('AzureWebJobsStorage__blobServiceUri', baseUrl),
    AzureWebJobsStorage__queueServiceUri: read('AzureWebJobsStorage__queueServiceUri', baseUrl),
    AzureWebJobsStorage__tableServiceUri: read('AzureWebJobsStorage__tableServiceUri', baseUrl),
    AzureWebJobsStorage__clientId: read('AzureWebJobsStorage__clientId', text),
    REPORT_SCHEDULE: schedule('REPORT_SCHEDULE', '0 0 8 * * 1'),
    REPORTS: read('REPORTS', reports) ?? [],
    KEEPALIVE_SCHEDULE: schedule('KEEPALIVE_SCHEDULE', '0 30 3 * * *'),
    KEEPALIVE_IDLE_DAYS: read('KEEPALIVE_IDLE_DAYS', positiveInt(80)) ?? 30,
    LOG_LEVEL:
      read(
        'LOG_LEVEL',
        oneOf(['debug', 'info', 'warn', 'error'] as const, 'must be debug, info, warn or error'),
      ) ?? 'info',
    CONNECT_PROMPT:
      read(
        'CONNECT_PROMPT',
        oneOf(['select_account', 'consent'] as const, 'must be select_account or consent'),
      ) ?? 'select_account',
    SERVICE_NAMES: read('SERVICE_NAMES', serviceNames) ?? new Map<string, string>(),
    NOTIFICATIONS_SCHEDULE: schedule('NOTIFICATIONS_SCHEDULE', '0 */30 * * * *'),
    WEBHOOK_RETRY_HOURS: read('WEBHOOK_RETRY_HOURS', positiveInt(72)) ?? 24,
    AZURE_FUNCTIONS_ENVIRONMENT: read('AZURE_FUNCTIONS_ENVIRONMENT', text),
    WEBSITE_SITE_NAME: read('WEBSITE_SITE_NAME', text),
    AZURE_CLIENT_ID: read('AZURE_CLIENT_ID', text),
    WEBSITE_HOSTNAME: read('WEBSITE_HOSTNAME', text),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

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
  /** PEM (key and certificate); when set, token requests use it instead of `clientSecret`. */
  clientCertificate: string | undefined;
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
  /** How long a send whose answer was lost is looked for (Sent Items, or its draft). */
  sendLostAnswerMs: number;
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
  /** `shared`: the mailbox concurrency budget is leased from storage (when configured). */
  mailboxSlots: 'shared' | 'instance';
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
  const e = readSettings(env);
  const problems: FieldError[] = [];
  const isProduction =
    (e.AZURE_FUNCTIONS_ENVIRONMENT ?? (e.WEBSITE_SITE_NAME ? 'Production' : 'Development')) ===
    'Production';

  if (isProduction && !e.CLIENT_ID) {
    problems.push({ path: 'CLIENT_ID', message: 'is required (the Entra app registration)' });
  }
  if (e.CLIENT_ID && !e.CLIENT_SECRET && !e.CLIENT_CERTIFICATE) {
    problems.push({
      path: 'CLIENT_SECRET',
      message: 'or CLIENT_CERTIFICATE is required when CLIENT_ID is set',
    });
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
    clientCertificate: e.CLIENT_CERTIFICATE,
    keyVaultUrl: e.KEY_VAULT_URL,
    keyVaultKeyName: e.KEY_VAULT_KEY_NAME,
    apiKeys: e.API_KEYS,
    bearer,
    publicBaseUrl: publicBaseUrl!,
    localDataDir: path.resolve(options.projectDir ?? process.cwd(), e.LOCAL_DATA_DIR ?? '.local'),
    scopes: e.GRAPH_SCOPES ?? DEFAULT_SCOPES,
    sendRatePerMinute: e.SEND_RATE_PER_MINUTE,
    dailyRecipientLimit: e.DAILY_RECIPIENT_LIMIT,
    // Exchange's MaxSendSize is in decimal megabytes, counted on the encoded message.
    maxMessageSizeBytes: e.MAX_MESSAGE_SIZE_MB * 1_000_000,
    requestBudgetMs: e.REQUEST_BUDGET_SECONDS * 1000,
    sendLostAnswerMs: e.SEND_LOST_ANSWER_SECONDS * 1000,
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
    mailboxSlots: e.MAILBOX_SLOTS,
    isProduction,
    managedIdentityClientId: e.AZURE_CLIENT_ID ?? e.AzureWebJobsStorage__clientId,
  });
}

/** sha256 hex of an API key, the form API_KEYS holds. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
