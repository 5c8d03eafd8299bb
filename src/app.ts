import { type TokenCredential } from '@azure/identity';

import { type Config, loadConfig, type LoadConfigOptions } from './config';
import { azureSdk } from './core/azure-sdk';
import { createHealthService, type HealthService, reachabilityCheck } from './core/health';
import { consoleSink, createLogger, type Logger } from './core/logger';
import {
  appRegistrationHealth,
  type AppKeys,
  createCredentialServices,
  type CredentialServicesDeps,
  type CredentialKey,
  type CredentialService,
  type TokenProvider,
} from './credentials';
import { attachmentContentFunction, listAttachmentsFunction } from './functions/attachments';
import { bulkSendFunctions } from './functions/bulk-sends';
import { bulkWorkerFunctions } from './functions/bulk-worker';
import { credentialsConnectFunction } from './functions/credentials-connect';
import { credentialsDeleteFunction } from './functions/credentials-delete';
import { credentialsGetFunction } from './functions/credentials-get';
import { credentialsListFunction } from './functions/credentials-list';
import { credentialsPutFunction } from './functions/credentials-put';
import { fallbackFunction } from './functions/fallback';
import { conversationMessagesFunction } from './functions/conversation';
import { folderActionFunctions } from './functions/folder-actions';
import { listFoldersFunction } from './functions/folders';
import { messageActionFunctions } from './functions/message-actions';
import { batchJobFunction } from './functions/message-batch';
import { batchWorkerFunctions } from './functions/message-batch-worker';
import { healthFunction } from './functions/health';
import { identitiesFunction } from './functions/identities';
import { keepAliveFunction } from './functions/keepalive';
import { graphWebhookFunctions } from './functions/graph-webhooks';
import { getMessageFunction } from './functions/message';
import { mcpFunction } from './functions/mcp';
import { listMessagesFunction } from './functions/messages';
import { oauthCallbackFunction } from './functions/oauth-callback';
import { oauthConfirmFunction } from './functions/oauth-confirm';
import { reportTimerFunction } from './functions/report-timer';
import { reportFunctions } from './functions/reports';
import { notifyWorkerFunctions } from './functions/notify-workers';
import { draftFunctions } from './functions/drafts';
import { respondFunctions } from './functions/respond';
import { sendFunction } from './functions/send';
import { getSendFunction } from './functions/sends';
import { sentCopyWorkerFunctions } from './functions/sent-copy-worker';
import { signatureFunction } from './functions/signature';
import { subscriptionFunctions } from './functions/subscriptions';
import { templateFunctions } from './functions/templates';
import { createGraphFactory, type GraphFactory } from './graph/client';
import { createFolderResolver } from './graph/folder-resolver';
import { MAILBOX_CONCURRENCY } from './graph/limiter';
import { SharedMailboxLimiter } from './graph/shared-limiter';
import { createBlobSlotTable } from './graph/slot-table';
import { createReaders } from './graph/read';
import { createAuthenticator } from './http/auth';
import { type FunctionDefinition, type HttpFunctionDefinition } from './http/definitions';
import { type EdgeDependencies } from './http/edge';
import { createMcpEndpoint } from './http/mcp/server';
import { compileRoute, RouteTable } from './http/routes';
import { createMailing } from './mail/bulk';
import { type BulkSettings } from './mail/bulk/jobs';
import { createDraftService } from './mail/drafts';
import { createIdempotencyStore, IDEMPOTENCY_TABLE } from './mail/idempotency';
import { createIdentity, type Identity } from './mail/identity';
import { createFolderActions } from './mail/folder-actions';
import { createMessageActions, type StoredBatchOutcome } from './mail/message-actions';
import { createBatchJobs } from './mail/message-batch/jobs';
import { createChunkPace } from './mail/message-batch/pace';
import { BATCH_QUEUE, createBatchJobQueue } from './mail/message-batch/queue';
import { BATCH_JOBS_TABLE, createBatchJobStore } from './mail/message-batch/store';
import { createRunStore, REPORT_RUNS_TABLE } from './mail/report/runs';
import { createReportService } from './mail/report/service';
import { createSendService, type IdempotentSendOutcome } from './mail/send';
import { createSendRecordStore } from './mail/send/records';
import {
  createSentCopyCleanup,
  SENT_COPY_QUEUE,
  type SentCopySettings,
} from './mail/send/sent-copy';
import { createSendStatus, type SendStatusService } from './mail/send/status';
import {
  createNotifications,
  type DeliverySettings,
  type WebhookNetworkOptions,
} from './notifications';
import { type DraftSender, type SendService } from './mail/send-types';
import {
  createJsonQueue,
  createStorageClients,
  requireStorage,
  type StorageClients,
} from './storage';

/** The services shared by every function, built once per process. */
export interface AppServices {
  config: Config;
  log: Logger;
  health: HealthService;
  /** Azure credential of the app itself (managed identity in Azure, developer login locally). */
  azureCredential(): TokenCredential;
  /** Undefined when no storage is configured (unit tests); functions needing it fail clearly. */
  storage: StorageClients | undefined;
  fetch: typeof fetch;
  /** Access tokens per credential (cached, single-flight refresh). */
  tokens: TokenProvider;
  /** Credential records: import, list, delete, connect flow, keep-alive. */
  credentials: CredentialService;
  /** HMAC keys (cursors, OAuth state) derived from the data key. */
  appKeys: AppKeys;
  /** The Graph helper: one SDK client and the per-mailbox limiter (shared across instances). */
  graph: GraphFactory<CredentialKey>;
  /** Sends mail (route, bulk jobs, reports): any attachment size, idempotent, never twice. */
  send: SendService & DraftSender;
  /** What became of a send: its message ids once the Sent Items copy has appeared. */
  sendStatus: SendStatusService;
}

export interface AppContext {
  config: Config;
  services: AppServices;
  edge: EdgeDependencies;
  functions: FunctionDefinition[];
  routes: RouteTable<HttpFunctionDefinition>;
}

export interface CreateAppOptions extends LoadConfigOptions {
  env: Record<string, string | undefined>;
  log?: Logger;
  fetch?: typeof fetch;
  /** Tests: credential-layer overrides (a trusted local Key Vault, shorter budgets). */
  credentials?: Pick<
    CredentialServicesDeps,
    'secretStore' | 'keyVaultClientOptions' | 'keyWrapper' | 'tokenManager' | 'tokenEndpoint'
  >;
  /** Tests and the benchmark: bulk-send timings (shrunk Exchange windows, shorter leases). */
  bulk?: Partial<BulkSettings>;
  /** Tests and the benchmark: webhook retry timings. */
  delivery?: Partial<DeliverySettings>;
  /** Tests: how deliveries reach webhooks (a stand-in resolver, the internal-address switch). */
  webhooks?: Partial<WebhookNetworkOptions>;
  /** Tests: how the Sent Items copies of drafts sent with saveToSentItems=false are looked for. */
  sentCopies?: Partial<SentCopySettings>;
}

function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

/**
 * The composition root: reads and validates config once, builds the shared services and returns
 * the table of function definitions that both the Azure host and the local host register.
 */
export function createApp(options: CreateAppOptions): AppContext {
  const config = loadConfig(options.env, options);
  // Secrets known at run time are handed to every logger, never registered in a module.
  const logSecrets = [config.clientSecret, config.clientCertificate];
  const log = (
    options.log ?? createLogger(consoleSink(config.logLevel), { app: 'outlook-mail-functions' })
  ).child({}, { secrets: logSecrets });

  const azureCredential = lazy<TokenCredential>(() =>
    config.managedIdentityClientId && config.isProduction
      ? new (azureSdk.identity().ManagedIdentityCredential)({
          clientId: config.managedIdentityClientId,
        })
      : new (azureSdk.identity().DefaultAzureCredential)(
          config.managedIdentityClientId
            ? { managedIdentityClientId: config.managedIdentityClientId }
            : {},
        ),
  );
  const fetchImpl = options.fetch ?? fetch;
  const health = createHealthService(log);
  health.add({
    name: 'appRegistration',
    check: () => Promise.resolve(appRegistrationHealth(config)),
  });
  health.add(
    reachabilityCheck(
      'identity',
      `${config.authorityHost}/${config.tenantId}/v2.0/.well-known/openid-configuration`,
      fetchImpl,
    ),
  );
  health.add(reachabilityCheck('graph', `${config.graphBaseUrl}/v1.0/`, fetchImpl));

  const storage = config.storage
    ? createStorageClients(config.storage, azureCredential)
    : undefined;
  const tableOf = async (name: string, purpose: string) =>
    requireStorage(storage, purpose).table(name);
  const credentialLayer = createCredentialServices({
    config,
    log,
    storage,
    azureCredential,
    fetch: fetchImpl,
    // Built below (it needs the credential layer's tokens); a delete cannot come before.
    onDeleted: (key) => identity.forgetCredential(key),
    ...options.credentials,
  });
  for (const check of credentialLayer.credentials.healthChecks()) health.add(check);

  const graph = createGraphFactory<CredentialKey>({
    graphBaseUrl: config.graphBaseUrl,
    tokens: credentialLayer.tokens,
    // Graph's 4 concurrent requests per mailbox count across every instance of the app.
    ...(storage && config.mailboxSlots === 'shared'
      ? {
          limiter: new SharedMailboxLimiter({
            table: createBlobSlotTable(storage, { slots: MAILBOX_CONCURRENCY, log }),
            slots: MAILBOX_CONCURRENCY,
            log,
          }),
        }
      : {}),
  });
  // Who a credential may send as and its signatures: the send path applies both to every message.
  const identity: Identity = createIdentity({ graph, storage });
  // Each send is remembered beside the Idempotency-Key rows, for GET …/sends/{sendId}.
  const sendRecords = createSendRecordStore({
    table: () => tableOf(IDEMPOTENCY_TABLE, 'Send records'),
  });
  // A draft sent with saveToSentItems=false keeps a copy all the same: a queued job deletes it.
  const sentCopies = createSentCopyCleanup({
    queue: createJsonQueue(async () =>
      requireStorage(storage, 'Sent Items cleanup').queue(SENT_COPY_QUEUE),
    ),
    records: sendRecords,
    graph,
    ...(options.sentCopies ? { settings: options.sentCopies } : {}),
  });
  const send = createSendService({
    graph,
    sender: identity.sender,
    idempotency: createIdempotencyStore<IdempotentSendOutcome>({
      table: () => tableOf(IDEMPOTENCY_TABLE, 'Idempotency keys'),
    }),
    records: sendRecords,
    sentCopies,
    maxMessageSizeBytes: config.maxMessageSizeBytes,
    confirm: { lostAnswerMs: config.sendLostAnswerMs },
  });
  const sendStatus = createSendStatus({ graph, records: sendRecords });

  const services: AppServices = {
    config,
    log,
    health,
    azureCredential,
    storage,
    fetch: fetchImpl,
    tokens: credentialLayer.tokens,
    credentials: credentialLayer.credentials,
    appKeys: credentialLayer.appKeys,
    graph,
    send,
    sendStatus,
  };

  const edge: EdgeDependencies = {
    authenticate: createAuthenticator({
      apiKeys: config.apiKeys,
      bearer: config.bearer,
      authorityHost: config.authorityHost,
    }),
    requestBudgetMs: config.requestBudgetMs,
    connectUrl: (credentialId) => `${config.publicBaseUrl}/api/credentials/${credentialId}/connect`,
    logSecrets,
  };

  const readers = createReaders({
    graph: services.graph,
    cursorKey: () => services.appKeys.hmacKey('cursor'),
  });
  // One resolver: folder writes forget the paths that message moves remembered.
  const folderResolver = createFolderResolver();
  const drafts = createDraftService({
    graph: services.graph,
    send: services.send,
    sender: identity.sender,
  });
  // Batches over the request's budget go on in a queued job, paced as the requests measured.
  const pace = createChunkPace();
  const batchJobs = createBatchJobs({
    store: createBatchJobStore(() => tableOf(BATCH_JOBS_TABLE, 'Batch jobs')),
    queue: createBatchJobQueue(async () =>
      requireStorage(storage, 'Batch jobs').queue(BATCH_QUEUE),
    ),
    graph: services.graph,
    pace,
  });
  const messageActions = createMessageActions({
    graph: services.graph,
    folders: folderResolver,
    idempotency: createIdempotencyStore<StoredBatchOutcome>({
      table: () => tableOf(IDEMPOTENCY_TABLE, 'Idempotency keys'),
    }),
    jobs: batchJobs,
    pace,
  });
  const mailing = createMailing({
    config,
    storage,
    tokens: services.tokens,
    graph: services.graph,
    send: () => services.send,
    identities: identity.identities,
    ...(options.bulk ? { settings: options.bulk } : {}),
  });
  const reports = createReportService({
    definitions: config.reports,
    graph: services.graph,
    send: services.send,
    runs: createRunStore({ table: () => tableOf(REPORT_RUNS_TABLE, 'Report runs') }),
  });
  if (config.reports.length > 0) health.add(reports.healthCheck());
  const secureCookies = config.publicBaseUrl.startsWith('https:');
  // Local and dev only: webhooks on loopback (http) and private addresses.
  const allowInternalWebhooks = !config.isProduction;
  const notifications = createNotifications({
    storage,
    graph: services.graph,
    folders: readers.folders,
    appKeys: services.appKeys,
    webhooks: { allowInternal: allowInternalWebhooks, ...options.webhooks },
    publicBaseUrl: config.publicBaseUrl,
    delivery: { retryWindowMs: config.webhookRetryMs, ...options.delivery },
    log,
  });
  const functions: FunctionDefinition[] = [
    healthFunction(health),
    credentialsListFunction(services.credentials),
    credentialsGetFunction(services.credentials),
    credentialsPutFunction(services.credentials),
    credentialsDeleteFunction(services.credentials),
    credentialsConnectFunction(services.credentials),
    oauthCallbackFunction(services.credentials, { secureCookies }),
    oauthConfirmFunction(services.credentials, { secureCookies }),
    keepAliveFunction(services.credentials, config.keepAliveSchedule),
    sendFunction({ send: services.send, maxMessageSizeBytes: config.maxMessageSizeBytes }),
    getSendFunction(services.sendStatus),
    ...sentCopyWorkerFunctions(sentCopies),
    identitiesFunction(identity),
    signatureFunction(identity, services.credentials),
    listFoldersFunction(readers),
    listMessagesFunction(readers),
    getMessageFunction(readers),
    ...messageActionFunctions(messageActions, config.publicBaseUrl),
    batchJobFunction(batchJobs),
    ...batchWorkerFunctions(batchJobs),
    ...respondFunctions({ send: services.send, maxMessageSizeBytes: config.maxMessageSizeBytes }),
    ...draftFunctions({ drafts, maxMessageSizeBytes: config.maxMessageSizeBytes }),
    ...folderActionFunctions(
      createFolderActions({ graph: services.graph, folders: folderResolver }),
    ),
    conversationMessagesFunction(readers),
    mcpFunction(
      createMcpEndpoint({ readers, actions: messageActions, send: services.send, drafts }),
    ),
    listAttachmentsFunction(readers),
    attachmentContentFunction(readers),
    ...templateFunctions(mailing.templates, identity.sender),
    ...bulkSendFunctions(mailing.jobs, config.publicBaseUrl),
    ...bulkWorkerFunctions(mailing.worker),
    ...reportFunctions(() => reports),
    reportTimerFunction(() => reports, config.reportSchedule),
    ...subscriptionFunctions(notifications, { allowLoopbackHttp: allowInternalWebhooks }),
    ...graphWebhookFunctions(notifications),
    ...notifyWorkerFunctions(notifications, config.notificationsSchedule),
    fallbackFunction(() => routes),
  ];
  const http = functions.filter((f): f is HttpFunctionDefinition => f.kind === 'http');
  // Every route but the catch-all itself: what the catch-all consults to tell 404 from 405.
  const routes = new RouteTable(
    http.filter((f) => f.name !== 'fallback').map((f) => compileRoute(f.route, f.methods, f)),
  );
  return { config, services, edge, functions, routes };
}
