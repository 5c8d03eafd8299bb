import { type Config } from '../../config';
import { type CredentialKey, type TokenProvider } from '../../credentials/types';
import { type GraphFactory } from '../../graph/client';
import { requireStorage, type StorageClients } from '../../storage';
import { type IdentityService } from '../identity/identities';
import { type SendService } from '../send-types';
import { ATTACHMENT_CONTAINER, createAttachmentBlobs } from '../template-storage';
import { createTemplateService, TEMPLATE_TABLE, type TemplateService } from '../templates';
import { type BulkJobs, type BulkSettings, createBulkJobs, DEFAULT_BULK_SETTINGS } from './jobs';
import { createPacer } from './pacing';
import { BULK_QUEUE, createBulkQueue } from './queue';
import { createSentIdResolver } from './sent-ids';
import { createBulkStore, JOBS_TABLE, RECIPIENTS_TABLE } from './store';
import { type BulkWorker, createBulkWorker } from './worker';

export const PACING_TABLE = 'bulkpacing';

export interface MailingDependencies {
  config: Config;
  storage: StorageClients | undefined;
  tokens: TokenProvider;
  /** Looks up sent rows' message ids when results are read. */
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  /** Late-bound: the send service is built after this layer in the composition root. */
  send: () => SendService;
  /** Tests and the benchmark shrink Exchange's windows. */
  settings?: Partial<BulkSettings>;
  /** Checks a job's `from` when it is accepted. */
  identities?: IdentityService;
}

export interface Mailing {
  templates: () => TemplateService;
  jobs: () => BulkJobs;
  worker: () => BulkWorker;
}

/** Templates and bulk sends over one set of storage clients, built on first use. */
export function createMailing(deps: MailingDependencies): Mailing {
  const storage = (): StorageClients => requireStorage(deps.storage, 'Templates and bulk sends');
  const settings: BulkSettings = {
    ...DEFAULT_BULK_SETTINGS,
    ratePerMinute: deps.config.sendRatePerMinute,
    dailyRecipientLimit: deps.config.dailyRecipientLimit,
    maxMessageBytes: deps.config.maxMessageSizeBytes,
    ...deps.settings,
  };
  let built: { templates: TemplateService; jobs: BulkJobs; worker: BulkWorker } | undefined;
  const build = () => {
    if (built) return built;
    const clients = storage();
    const attachments = createAttachmentBlobs(() => clients.container(ATTACHMENT_CONTAINER));
    const templates = createTemplateService({
      table: () => clients.table(TEMPLATE_TABLE),
      attachments,
      maxMessageBytes: settings.maxMessageBytes,
    });
    const store = createBulkStore({
      jobs: () => clients.table(JOBS_TABLE),
      recipients: () => clients.table(RECIPIENTS_TABLE),
    });
    const bulk = {
      store,
      queue: createBulkQueue(() => clients.queue(BULK_QUEUE)),
      pacer: createPacer(() => clients.table(PACING_TABLE), { ...settings, maxConcurrent: 4 }),
      templates,
      attachments,
      send: deps.send,
      async senderMailbox(
        key: Parameters<TokenProvider['getAccessToken']>[0],
        options: { abortSignal?: AbortSignal },
      ) {
        const grant = await deps.tokens.getAccessToken(key, options);
        return grant.mailbox ?? grant.account.address;
      },
      settings,
      sentIds: createSentIdResolver({ graph: deps.graph, store }),
      ...(deps.identities ? { identities: deps.identities } : {}),
    };
    built = { templates, jobs: createBulkJobs(bulk), worker: createBulkWorker(bulk) };
    return built;
  };
  return {
    templates: () => build().templates,
    jobs: () => build().jobs,
    worker: () => build().worker,
  };
}
