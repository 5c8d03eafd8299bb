/**
 * Generated from openapi.yaml by scripts/client-types.mjs (openapi-typescript): do not edit.
 * Run `npm run client:types` after changing openapi.yaml.
 */
export interface paths {
  '/health': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Liveness and readiness of the dependencies (no secrets)
     * @description Without a caller the answer is `{status}` only. A caller (credentials sent must be valid) also gets the checks, showing only its own service's credentials and reports; an Entra app with the `Operator` app role sees every service's.
     */
    get: operations['health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller's service's credentials (public views, never a token) */
    get: operations['listCredentials'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get: operations['getCredential'];
    /** Import a refresh token (validated by one refresh and GET /me; nothing stored on failure) */
    put: operations['importCredential'];
    post?: never;
    /** Disconnect */
    delete: operations['deleteCredential'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/connect': {
    parameters: {
      query?: {
        loginHint?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    /**
     * Start the connect flow (authorization code + PKCE + signed single-use state)
     * @description The link works once, for 10 minutes, and shows Microsoft's account picker (`CONNECT_PROMPT`). It is bound to the account expected to sign in, `loginHint` or the account already behind the credential: anyone else is refused and nothing is stored. A `loginHint` naming another mailbox than the credential's is a 400.
     */
    get: operations['connectCredential'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/oauth/callback': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Redeem the code and ask the mailbox owner to confirm; stores nothing
     * @description Shows which service (`SERVICE_NAMES`, else its id) asks for which mailbox, with a form that posts to `oauth/confirm`, and sets the `SameSite=Strict` cookie that post must carry. An API client (`Accept: application/json`) gets the same as JSON.
     */
    get: operations['oauthCallback'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/oauth/confirm': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * The mailbox owner's decision; stores the credential only on `connect`
     * @description Needs the one-time `confirmation` of the callback page and the cookie it set (a cross-site post carries neither); single use, within 10 minutes.
     */
    post: operations['oauthConfirm'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/folders': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get: operations['listFolders'];
    put?: never;
    /** Create a folder under a parent (id, well-known name or path; the top by default) */
    post: operations['createFolder'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/folders/{folderId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description A folder id, or a URL-encoded path (Inbox%2FCustomers); well-known folders cannot be changed */
        folderId: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete a folder with its subfolders and messages */
    delete: operations['deleteFolder'];
    options?: never;
    head?: never;
    /** Rename a folder, move it under another parent, or both */
    patch: operations['updateFolder'];
    trace?: never;
  };
  '/credentials/{credentialId}/conversations/{conversationId}/messages': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        conversationId: string;
      };
      cookie?: never;
    };
    /** A thread across every folder, oldest first, with cursor paging */
    get: operations['listConversation'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get: operations['listMessages'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    get: operations['getMessage'];
    put?: never;
    post?: never;
    /** Move to Deleted Items (as Outlook deletes), or purge with permanent=true */
    delete: operations['deleteMessage'];
    options?: never;
    head?: never;
    /** Mark read or unread, flag, categorise, set importance */
    patch: operations['updateMessage'];
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}/move': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Move a message to a folder (id, well-known name or display path) */
    post: operations['moveMessage'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}/copy': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Copy a message to a folder (the copy has a new id) */
    post: operations['copyMessage'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}/reply': {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key and body return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Reply (or reply all) in the message's conversation, the original quoted; never twice */
    post: operations['replyToMessage'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}/forward': {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key and body return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Forward a message with its attachments; never twice */
    post: operations['forwardMessage'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/drafts': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Save a draft for a person to review (send's body, or replyTo / forwardOf a message) */
    post: operations['createDraft'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/drafts/{draftId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    get: operations['getDraft'];
    put?: never;
    post?: never;
    delete: operations['deleteDraft'];
    options?: never;
    head?: never;
    /** Change a draft's recipients, subject, body, importance or from (lists replace the draft's) */
    patch: operations['updateDraft'];
    trace?: never;
  };
  '/credentials/{credentialId}/drafts/{draftId}/attachments': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add files of any size to a draft (a failure leaves the draft as it was) */
    post: operations['addDraftAttachments'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/drafts/{draftId}/send': {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Send a draft, never twice */
    post: operations['sendDraft'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/batch': {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key and body return the first answer and act once (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** One action on up to 1,000 messages (Graph $batch, 20 per request) */
    post: operations['batchMessages'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/batch/{jobId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    /** A batch that went on in a queued job, its progress and per-message results */
    get: operations['getBatchJob'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}/attachments': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    get: operations['listAttachments'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/messages/{messageId}/attachments/{attachmentId}/content': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
        attachmentId: string;
      };
      cookie?: never;
    };
    get: operations['downloadAttachment'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/send': {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key and body return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Send mail (any attachment up to 150 MiB; never twice) */
    post: operations['sendMail'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/sends/{sendId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The sendId a send, reply, forward, draft send or bulk result answered with */
        sendId: string;
      };
      cookie?: never;
    };
    /**
     * What became of a send, with its message ids once its Sent Items copy has appeared
     * @description Graph answers a send before the Sent Items copy exists ("may take time to appear"), so a send
     *     answers at once and its ids come here. Each call makes at most one Graph request (Sent Items
     *     searched by the send's marker among messages sent around the send time, or the draft looked up
     *     by its immutable id); once found they are remembered and later calls make none. Records live
     *     24 h; a sendId of another credential or service is 404.
     */
    get: operations['getSend'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/identities': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    /**
     * The addresses the credential may send as (primary, aliases, configured shared mailboxes)
     * @description Aliases are the `smtp:` entries of the user's `proxyAddresses` (read with an explicit
     *     `$select`), lower-cased and de-duplicated, the primary address left out. `sendAs` holds the
     *     shared mailbox the credential was configured for. Cached per credential for 5 minutes.
     */
    get: operations['listIdentities'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/signature': {
    parameters: {
      query?: {
        /** @description An alias or shared mailbox of the credential whose own signature this is (absent, or the primary address, is the credential's) */
        from?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get: operations['getSignature'];
    /** Store the signature (HTML sanitised to a mail-safe subset; inline images stored once) */
    put: operations['putSignature'];
    post?: never;
    delete: operations['deleteSignature'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/templates': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['listTemplates'];
    put?: never;
    post: operations['createTemplate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/templates/{templateId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        templateId: components['parameters']['templateId'];
      };
      cookie?: never;
    };
    get: operations['getTemplate'];
    put: operations['updateTemplate'];
    post?: never;
    delete: operations['deleteTemplate'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/templates/{templateId}/preview': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        templateId: components['parameters']['templateId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['previewTemplate'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/bulk-sends': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['createBulkSend'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/bulk-sends/{jobId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    get: operations['getBulkSend'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/bulk-sends/{jobId}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['cancelBulkSend'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/bulk-sends/{jobId}/resume': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Continue a job paused because its credential needed reconnecting */
    post: operations['resumeBulkSend'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/reports/{reportId}/preview': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        reportId: components['parameters']['reportId'];
      };
      cookie?: never;
    };
    /** The report for the current period, not sent */
    get: operations['previewReport'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/reports/{reportId}/run': {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key send once (not combinable with dedupe=period) */
        'Idempotency-Key'?: string;
      };
      path: {
        reportId: components['parameters']['reportId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Send the report now */
    post: operations['runReport'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/subscriptions': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    get: operations['listSubscriptions'];
    put?: never;
    /** Subscribe a webhook to a folder's message changes (signing secret shown once) */
    post: operations['createSubscription'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/subscriptions/{subscriptionId}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    get: operations['getSubscription'];
    put?: never;
    post?: never;
    delete: operations['deleteSubscription'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/subscriptions/{subscriptionId}/rotate-secret': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['rotateSubscriptionSecret'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/subscriptions/{subscriptionId}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    get: operations['listDeliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
        /** @description The event's `webhook-id` */
        deliveryId: string;
      };
      cookie?: never;
    };
    get?: never;
    put?: never;
    post: operations['retryDelivery'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/credentials/{credentialId}/changes': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    /** Message events since a cursor, for callers that cannot receive webhooks */
    get: operations['listChanges'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/graph/notifications': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Microsoft Graph change notifications (and the validationToken handshake) */
    post: operations['graphNotifications'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/graph/lifecycle': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Microsoft Graph lifecycle notifications (and the validationToken handshake) */
    post: operations['graphLifecycle'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mcp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Model Context Protocol for AI agents (Streamable HTTP, stateless)
     * @description One JSON-RPC message or batch of MCP (protocol 2025-06-18 and later, Streamable HTTP transport without sessions), answered as JSON. Same callers and service isolation as every route. Tools: list_folders, search_messages, get_message, list_attachments (read-only), send_mail, reply, forward (each idempotent per tool call), move_message, mark_read; each takes a `credentialId`; lists page with a `more` cursor. See docs/mcp.md.
     */
    post: operations['mcp'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    JsonRpcMessage: {
      /** @enum {string} */
      jsonrpc: '2.0';
      id?: string | number;
      /** @example tools/call */
      method?: string;
      params?: {
        [key: string]: unknown;
      };
      result?: {
        [key: string]: unknown;
      };
      error?: {
        [key: string]: unknown;
      };
    };
    SubscriptionRequest: {
      /**
       * @description Folder id, well-known name or path (`Inbox/Projects`)
       * @default inbox
       */
      folder?: string;
      events: ('created' | 'updated' | 'deleted')[];
      /**
       * Format: uri
       * @description https (http only to loopback when not in production)
       */
      webhookUrl: string;
      /** @description Message fields in message events (`id` always) */
      fields?: (
        | 'id'
        | 'internetMessageId'
        | 'conversationId'
        | 'subject'
        | 'from'
        | 'toRecipients'
        | 'ccRecipients'
        | 'receivedDateTime'
        | 'sentDateTime'
        | 'isRead'
        | 'hasAttachments'
        | 'importance'
        | 'bodyPreview'
        | 'folderId'
      )[];
    };
    Subscription: {
      subscriptionId: string;
      /** @enum {string} */
      status: 'active' | 'paused' | 'disabled';
      reason?: string;
      folder: string;
      folderId: string;
      events: ('created' | 'updated' | 'deleted')[];
      webhookUrl: string;
      fields: string[];
      /** Format: date-time */
      createdAt: string;
    };
    Delivery: {
      /** @description The event's webhook-id */
      deliveryId: string;
      type: string;
      /** @enum {string} */
      status: 'pending' | 'retrying' | 'delivered' | 'dead' | 'cancelled';
      attempts: number;
      lastStatusCode?: number | null;
      lastError?: string | null;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      lastAttemptAt?: string | null;
      /** Format: date-time */
      nextAttemptAt?: string | null;
    };
    /** @description The JSON body POSTed to a webhook, with headers webhook-id (stable per change), webhook-timestamp and webhook-signature (Standard Webhooks, v1 HMAC-SHA256). */
    WebhookEvent: {
      /** @enum {string} */
      type:
        | 'message.created'
        | 'message.updated'
        | 'message.deleted'
        | 'subscription.paused'
        | 'subscription.resumed'
        | 'subscription.resynced';
      credentialId: string;
      subscriptionId: string | null;
      /** Format: date-time */
      occurredAt: string;
      /** @description Message events carry `id` and the subscription's fields; subscription events `folderId` and `reason` */
      data: Record<string, never>;
    };
    WrittenFolder: {
      id: string;
      displayName: string;
      parentFolderId: string;
      childFolderCount: number;
      unreadItemCount: number;
      totalItemCount: number;
    };
    /** @description Unknown fields are refused (400 naming them). */
    MessageChange: {
      isRead?: boolean;
      flag?: {
        /** @enum {string} */
        status: 'notFlagged' | 'flagged' | 'complete';
        /**
         * Format: date-time
         * @description With a zone; defaults to now when only dueDateTime is given
         */
        startDateTime?: string;
        /** Format: date-time */
        dueDateTime?: string;
      };
      categories?: string[];
      /** @enum {string} */
      importance?: 'low' | 'normal' | 'high';
    };
    ActedMessage: {
      id: string;
      parentFolderId: string | null;
      isRead: boolean | null;
      importance: string | null;
      categories: string[];
      flag: {
        status?: string;
        startDateTime?: string | null;
        dueDateTime?: string | null;
      } | null;
    };
    Destination: {
      /** @description A folder id, a well-known name (archive, deleteditems, junkemail, …) or a display path from the top of the mailbox (Archive/2026/Customers; a / inside a name written \/) */
      destination: string;
    };
    MovedMessage: {
      /** @description The id after the action: unchanged by a move, new for a copy */
      id: string;
      sourceMessageId: string;
      folderId: string;
      /**
       * @description Ids survive moves within the mailbox
       * @enum {string}
       */
      idType: 'immutable';
    };
    BatchCommand: {
      /** @enum {string} */
      action:
        'markRead' | 'markUnread' | 'move' | 'copy' | 'delete' | 'flag' | 'unflag' | 'categorize';
      messageIds: string[];
      /** @description move and copy only: as in Destination */
      destination?: string;
      /** @description categorize only (replaces the message's categories) */
      categories?: string[];
    };
    BatchResult: {
      action: string;
      done: number;
      failed: number;
      /** @enum {string} */
      idType: 'immutable';
      results: {
        messageId: string;
        /** @enum {string} */
        status: 'done' | 'failed';
        /** @description move and copy */
        newMessageId?: string;
        error?: {
          code?: string;
          message?: string;
        };
      }[];
    };
    BatchJob: {
      jobId: string;
      action: string;
      /** @enum {string} */
      status: 'queued' | 'running' | 'completed' | 'failed';
      /** @description Why the job failed as a whole (credential gone, repeated worker failures) */
      reason: string | null;
      total: number;
      done: number;
      failed: number;
      pending: number;
      /** Format: date-time */
      createdAt: string;
      /** Format: date-time */
      updatedAt: string;
      /** @enum {string} */
      idType: 'immutable';
      results: {
        messageId: string;
        /** @enum {string} */
        status: 'done' | 'failed' | 'pending';
        /** @description move and copy */
        newMessageId?: string;
        error?: {
          code?: string;
          message?: string;
        };
      }[];
    };
    Problem: {
      type: string;
      title: string;
      status: number;
      detail: string;
      instance?: string;
      /** @enum {string} */
      code:
        | 'validation_failed'
        | 'unauthenticated'
        | 'forbidden'
        | 'not_found'
        | 'method_not_allowed'
        | 'unsupported_media_type'
        | 'payload_too_large'
        | 'conflict'
        | 'idempotency_conflict'
        | 'reauth_required'
        | 'invalid_cursor'
        | 'graph_throttled'
        | 'graph_unavailable'
        | 'graph_error'
        | 'store_unavailable'
        | 'send_outcome_unknown'
        | 'config_invalid'
        | 'internal';
      requestId: string;
      errors?: {
        path: string;
        message: string;
      }[];
      /** @description With reauth_required */
      connectUrl?: string;
      /** @description With graph_throttled and graph_unavailable */
      retryAfterSeconds?: number;
      /** @description With payload_too_large */
      limitBytes?: number;
      /** @description With payload_too_large for a message */
      rawBytes?: number;
      /** @description With payload_too_large for a message, its estimated size as Exchange counts it (MIME, attachments in base64), which is what the limit applies to */
      encodedBytes?: number;
      /** @description With send_outcome_unknown */
      sendId?: string;
      /** @description With precondition_failed */
      currentVersion?: number;
    };
    Health: {
      /** @enum {string} */
      status: 'ok' | 'degraded';
      checks?: {
        [key: string]: {
          ok?: boolean;
          detail?: string;
          ms?: number;
        };
      };
    };
    Credential: {
      credentialId: string;
      serviceId: string;
      /** @enum {string} */
      status: 'active' | 'reauth_required';
      account: {
        address?: string;
        displayName?: string;
      };
      scopes: string[];
      mailbox?: string | null;
      /** Format: date-time */
      tokenExpiry?: string | null;
      /** Format: date-time */
      lastRefreshedAt?: string | null;
      /** @description Present when status is reauth_required */
      connectUrl?: string;
    };
    CredentialImport: {
      refreshToken: string;
      accessToken?: string;
      /** Format: date-time */
      tokenExpiry?: string;
      /** @description Must be the configured app's client id */
      clientId?: string;
      scopes?: string[];
      /**
       * Format: email
       * @description Default shared mailbox (UPN) for this credential
       */
      mailbox?: string;
    };
    Recipient: {
      name?: string;
      /** Format: email */
      address: string;
    };
    Folder: {
      id: string;
      displayName: string;
      /** @description Like Inbox/Projects/2026; a / inside a name is written \/ */
      path: string;
      parentFolderId: string | null;
      wellKnownName: string | null;
      unreadItemCount: number;
      totalItemCount: number;
      childFolderCount: number;
      /**
       * @description Present only on a recursive listing, where the folder lies 300 levels deep (Exchange's maximum nesting) and its children were not walked.
       * @enum {boolean}
       */
      childFoldersOmitted?: true;
    };
    Draft: components['schemas']['Message'] & {
      isDraft: boolean;
      bccRecipients: components['schemas']['Recipient'][];
    };
    /**
     * @description Send's body (recipients may come later), or a reply's with `replyTo` set to the id of the
     *     message answered (Graph's createReply / createReplyAll), or a forward's with `forwardOf`
     *     (createForward). `replyTo` holding addresses is send's Reply-To list.
     */
    DraftRequest:
      | components['schemas']['SendRequest']
      | (components['schemas']['ReplyRequest'] & {
          /** @description Id of the message answered */
          replyTo: string;
        })
      | (components['schemas']['ForwardRequest'] & {
          /** @description Id of the message forwarded */
          forwardOf: string;
        });
    DraftChange: {
      to?: components['schemas']['Recipients'];
      cc?: components['schemas']['Recipients'];
      bcc?: components['schemas']['Recipients'];
      replyTo?: components['schemas']['Recipients'];
      subject?: string;
      body?: string;
      /**
       * @description Of body (needs body)
       * @default text
       * @enum {string}
       */
      contentType?: 'text' | 'html';
      /** @enum {string} */
      importance?: 'low' | 'normal' | 'high';
      /**
       * @description Send as this address (primary, alias or configured shared mailbox), checked before the
       *     draft is read or changed (400 naming `from`). The body is taken as given: the signature
       *     went in when the draft was made and is never added again.
       */
      from?: components['schemas']['RecipientInput'];
    };
    Message: {
      /** @description Immutable id (always present */
      id: string;
      internetMessageId?: string | null;
      conversationId?: string | null;
      subject?: string | null;
      from?: components['schemas']['Recipient'] | null;
      toRecipients?: components['schemas']['Recipient'][];
      ccRecipients?: components['schemas']['Recipient'][];
      /** Format: date-time */
      receivedDateTime?: string | null;
      /** Format: date-time */
      sentDateTime?: string | null;
      isRead?: boolean;
      hasAttachments?: boolean;
      /** @enum {string} */
      importance?: 'low' | 'normal' | 'high';
      bodyPreview?: string;
      parentFolderId?: string;
      body?: {
        /** @enum {string} */
        contentType?: 'text' | 'html';
        content?: string;
      };
    };
    Attachment: {
      id: string;
      name: string;
      contentType: string | null;
      size: number;
      isInline: boolean;
    };
    RecipientInput: string | components['schemas']['Recipient'];
    Recipients: components['schemas']['RecipientInput'] | components['schemas']['RecipientInput'][];
    Identities: {
      primary: {
        address: string;
        name: string;
      };
      aliases: {
        address: string;
      }[];
      sendAs: {
        address: string;
      }[];
    };
    SignatureInput: {
      /** @description Sanitised to a mail-safe subset; `data:` images become inline attachments */
      html: string;
      /** @description For text bodies; derived from html when absent */
      text?: string;
      /**
       * @description Appended when a send does not say
       * @default true
       */
      default?: boolean;
      images?: {
        /** @description Referenced as cid:{contentId} in html */
        contentId: string;
        name: string;
        /** @enum {string} */
        contentType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';
        /** Format: byte */
        contentBase64: string;
      }[];
    };
    Signature: {
      from: string | null;
      html: string;
      text: string;
      default: boolean;
      images: {
        contentId?: string;
        name?: string;
        contentType?: string;
        size?: number;
      }[];
      /** Format: date-time */
      updatedAt: string;
    };
    SendRequest: {
      to: components['schemas']['Recipients'];
      cc?: components['schemas']['Recipients'];
      bcc?: components['schemas']['Recipients'];
      replyTo?: components['schemas']['Recipients'];
      subject: string;
      body?: string;
      /**
       * @default text
       * @enum {string}
       */
      contentType?: 'text' | 'html';
      /**
       * @default normal
       * @enum {string}
       */
      importance?: 'low' | 'normal' | 'high';
      /** @default true */
      saveToSentItems?: boolean;
      /** @description Up to 5 custom headers whose names start with x- */
      headers?: {
        [key: string]: string;
      };
      /** @description Send from this shared mailbox (UPN) */
      mailbox?: string;
      /**
       * @description Send as this address: the primary one, an alias or a configured shared mailbox (see
       *     GET …/identities); anything else is a 400 naming `from`. Exchange refuses an alias
       *     unless the tenant enabled SendFromAliasEnabled: 403 `send_as_denied`.
       */
      from?: components['schemas']['RecipientInput'];
      /** @description Append the credential's signature (default - the signature's own `default`) */
      signature?: boolean;
      fileSizes?: components['schemas']['FileSizes'];
      attachments?: components['schemas']['AttachmentsInput'];
    };
    /**
     * @description multipart/form-data only: the size in bytes of every file part, by its field name. With the
     *     `message` part ahead of the files and a file of 3 MB or more, the draft and upload session
     *     are made as soon as the `message` part is read and each file streams to Graph while it
     *     arrives (400 naming the part if a size differs, a part is missing or undeclared; nothing is
     *     sent). Without it, or with only smaller files, the files are spooled first (docs/send.md).
     */
    FileSizes: {
      [key: string]: number;
    };
    AttachmentsInput: {
      name: string;
      contentType?: string;
      /** Format: byte */
      contentBase64: string;
      isInline?: boolean;
      contentId?: string;
    }[];
    /**
     * @description Graph writes the subject (RE:), the recipients (the author, or Reply-To; with replyAll every
     *     other To and Cc too) and the quoted original; `body` goes above the quote (text is escaped,
     *     line breaks kept; html as given).
     */
    ReplyRequest: {
      body: string;
      /**
       * @default text
       * @enum {string}
       */
      contentType?: 'text' | 'html';
      /** @default false */
      replyAll?: boolean;
      cc?: components['schemas']['Recipients'];
      bcc?: components['schemas']['Recipients'];
      /** @description Send as this address (primary, alias or configured shared mailbox), as on send */
      from?: components['schemas']['RecipientInput'];
      /** @description Append the credential's signature above the quoted original (default - the signature's own `default`) */
      signature?: boolean;
      fileSizes?: components['schemas']['FileSizes'];
      attachments?: components['schemas']['AttachmentsInput'];
    };
    /** @description The original's attachments travel with it; `body` goes above the forwarded message. */
    ForwardRequest: {
      to: components['schemas']['Recipients'];
      cc?: components['schemas']['Recipients'];
      bcc?: components['schemas']['Recipients'];
      /** @default  */
      body?: string;
      /**
       * @default text
       * @enum {string}
       */
      contentType?: 'text' | 'html';
      /** @description Send as this address (primary, alias or configured shared mailbox), as on send */
      from?: components['schemas']['RecipientInput'];
      /** @description Append the credential's signature above the quoted original (default - the signature's own `default`) */
      signature?: boolean;
      fileSizes?: components['schemas']['FileSizes'];
      attachments?: components['schemas']['AttachmentsInput'];
    };
    ReportRun: {
      reportId: string;
      runId: string;
      /** @enum {string} */
      status: 'sent' | 'skipped';
      /** @enum {string|null} */
      reason?: 'already_sent' | 'in_progress' | 'outcome_unknown' | null;
      sendId?: string | null;
      messageId?: string | null;
      internetMessageId?: string | null;
      period?: {
        /** Format: date-time */
        start?: string;
        /** Format: date-time */
        end?: string;
        timeZone?: string;
      };
      counts?: {
        received?: number;
        sent?: number;
        unread?: number;
        awaitingReply?: number;
      } | null;
    };
    SendResult: {
      /** @description Ask GET …/sends/{sendId} for the ids once the Sent Items copy has appeared */
      sendId: string;
      /** @enum {string} */
      status: 'sent';
      /** @description Immutable id when already known (a message sent by draft), else null */
      messageId: string | null;
      internetMessageId: string | null;
      /** Format: date-time */
      sentAt: string;
    };
    SendStatus: {
      sendId: string;
      /**
       * @description unknown when the send's answer was lost and the message has not been found (yet)
       * @enum {string}
       */
      status: 'sent' | 'unknown';
      /** @description Immutable id of the Sent Items copy */
      messageId: string | null;
      internetMessageId: string | null;
      /** Format: date-time */
      sentAt: string;
      savedToSentItems: boolean;
      /**
       * @description false while the Sent Items copy is still awaited (ask again later); true once the ids are
       *     final: known, or null for good (not saved to Sent Items, or no copy within an hour of the send)
       */
      resolved: boolean;
      /**
       * @description kept: saved to Sent Items, as asked. none: saveToSentItems=false and Exchange kept no copy.
       *     A message sent by draft (large files) with saveToSentItems=false gets a copy all the same
       *     (Graph's /send always keeps one): deleting until a queued job has found and deleted it
       *     (deleted), or left when it could not (the copy may be in Sent Items; see docs/send.md)
       * @enum {string}
       */
      sentItemsCopy: 'kept' | 'none' | 'deleting' | 'deleted' | 'left';
    };
    TemplateInput: {
      templateId?: string;
      name: string;
      /** @description Mustache-style {{field}} merge fields */
      subject: string;
      /** @description {{personalNote}} is the recipient's personal phrase */
      body: string;
      /** @enum {string} */
      contentType: 'text' | 'html';
      attachments?: {
        name: string;
        contentType?: string;
        /** Format: byte */
        contentBase64: string;
      }[];
      /**
       * @description Who messages made from it go out as: an address, a display name (one line, at most 255
       *     characters) or both, as a string (the address) or {address?, name?}. A name alone goes
       *     out from the address a job or row gives, else the credential's primary address.
       *     Checked against the credential's identities when a job uses it.
       */
      from?:
        | string
        | {
            /** Format: email */
            address?: string;
            name?: string;
          };
      /** @description Where replies go (at most 10), unless a job or row says otherwise */
      replyTo?: components['schemas']['Recipients'];
    };
    Template: {
      templateId: string;
      name: string;
      subject: string;
      body: string;
      /** @enum {string} */
      contentType: 'text' | 'html';
      attachments?: {
        name?: string;
        contentType?: string;
        size?: number;
      }[];
      from?: {
        /** Format: email */
        address?: string;
        name?: string;
      } | null;
      replyTo?: components['schemas']['Recipient'][];
      version: number;
      /** Format: date-time */
      createdAt?: string;
      /** Format: date-time */
      updatedAt?: string;
    };
    BulkSendRequest: {
      templateId?: string;
      template?: components['schemas']['TemplateInput'];
      recipients: {
        to: components['schemas']['RecipientInput'];
        cc?: components['schemas']['Recipients'];
        variables?: {
          [key: string]: unknown;
        };
        personalNote?: string;
        /** @description This message's own from (its address checked like the job's) */
        from?: components['schemas']['RecipientInput'];
        /** @description This message's own Reply-To (at most 10) */
        replyTo?: components['schemas']['Recipients'];
      }[];
      attachments?: {
        name: string;
        contentType?: string;
        /** Format: byte */
        contentBase64: string;
      }[];
      /** Format: date-time */
      scheduledAt?: string;
      /** @description Every message goes out as this address (primary, alias or configured shared mailbox) */
      from?: components['schemas']['RecipientInput'];
      /**
       * @description Where replies go (at most 10). Each of from.address, from.name and replyTo comes from
       *     the most specific level that gives it: the row, then the job, then the template.
       */
      replyTo?: components['schemas']['Recipients'];
      /** @description Sign every message (at {{signature}} in the template, else after the body) */
      signature?: boolean;
    };
    BulkSendStatus: {
      jobId?: string;
      credentialId?: string;
      /** @enum {string} */
      status: 'queued' | 'running' | 'completed' | 'cancelled' | 'failed';
      /** @description Set while the job waits for its credential to be reconnected (then POST …/resume) */
      paused?: {
        reason?: string;
      } | null;
      reason?: string | null;
      total?: number;
      templateId?: string | null;
      templateVersion?: number | null;
      /** Format: date-time */
      scheduledAt?: string | null;
      /** Format: date-time */
      createdAt?: string;
      /** Format: date-time */
      startedAt?: string | null;
      counts: {
        queued: number;
        sent: number;
        failed: number;
        skipped: number;
      };
      percent: number;
      /** Format: date-time */
      eta: string | null;
      results: {
        index?: number;
        to: string;
        /** @enum {string} */
        status: 'queued' | 'sending' | 'sent' | 'failed' | 'skipped';
        /** @description A sent recipient's send (GET …/sends/{sendId} tells the same for 24 hours) */
        sendId?: string;
        /** Format: date-time */
        sentAt?: string;
        /**
         * @description Immutable id of a sent recipient's Sent Items copy; null until the copy has appeared
         *     (a read of the results looks up to 10 rows of its page that await ids, and remembers
         *     what it finds)
         */
        messageId?: string | null;
        internetMessageId?: string | null;
        /**
         * @description Sent rows: false while the ids are still awaited (read again later); true once they
         *     are final (known, or null for good: no copy within an hour of the send)
         */
        resolved?: boolean;
        error?: string;
      }[];
      nextCursor?: string | null;
    };
  };
  responses: {
    /** @description An RFC 9457 problem */
    Problem: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
  };
  parameters: {
    credentialId: string;
    templateId: string;
    reportId: string;
    subscriptionId: string;
    jobId: string;
    /** @description The draft's immutable id (from POST drafts) */
    draftId: string;
    /** @description Immutable message id */
    messageId: string;
    /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
    mailbox: string;
  };
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  health: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Always 200; `status` is `degraded` when a dependency fails */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Health'];
        };
      };
    };
  };
  listCredentials: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Credentials */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            credentials: components['schemas']['Credential'][];
          };
        };
      };
      401: components['responses']['Problem'];
    };
  };
  getCredential: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The public view */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Credential'];
        };
      };
      404: components['responses']['Problem'];
    };
  };
  importCredential: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['CredentialImport'];
      };
    };
    responses: {
      /** @description Replaced */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Credential'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Credential'];
        };
      };
      400: components['responses']['Problem'];
      401: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  deleteCredential: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      404: components['responses']['Problem'];
    };
  };
  connectCredential: {
    parameters: {
      query?: {
        loginHint?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Redirect to the Microsoft identity platform's authorize endpoint */
      302: {
        headers: {
          Location?: string;
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Problem'];
    };
  };
  oauthCallback: {
    parameters: {
      query?: {
        code?: string;
        state?: string;
        error?: string;
        error_description?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Waiting for the owner's confirmation */
      200: {
        headers: {
          'Set-Cookie'?: string;
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/json': {
            /** @enum {string} */
            status: 'confirmation_required';
            serviceId: string;
            credentialId: string;
            /** @description display name of the service */
            service: string;
            account: {
              address?: string;
              displayName?: string;
            };
            /** @description the form field for oauth/confirm */
            confirmation: string;
            /** Format: date-time */
            expiresAt: string;
          };
        };
      };
      /** @description Invalid, expired or replayed state, or an error from the identity platform */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Another account signed in than the link was made for; nothing stored */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  oauthConfirm: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/x-www-form-urlencoded': {
          confirmation: string;
          /** @enum {string} */
          decision: 'connect' | 'cancel';
        };
      };
    };
    responses: {
      /** @description Cancelled (nothing stored), or an existing credential reconnected */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/json':
            | components['schemas']['Credential']
            | {
                /** @enum {string} */
                status?: 'cancelled';
              };
        };
      };
      /** @description Connected */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/json': components['schemas']['Credential'];
        };
      };
      /** @description Unknown, used, expired or forged confirmation; nothing stored */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Posted from another site */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      /** @description Not a form post */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  listFolders: {
    parameters: {
      query?: {
        parentId?: string;
        recursive?: 'true' | 'false';
        includeHidden?: 'true' | 'false';
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Flat, depth-first */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            folders: components['schemas']['Folder'][];
            /**
             * @description Present only when a recursive listing reached 300 levels; the folders marked childFoldersOmitted are where it stopped.
             * @enum {boolean}
             */
            truncated?: true;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      429: components['responses']['Problem'];
    };
  };
  createFolder: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          displayName: string;
          /** @description As Destination.destination */
          parent?: string;
        };
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WrittenFolder'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      /** @description A folder of that name already exists beside it */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  deleteFolder: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description A folder id, or a URL-encoded path (Inbox%2FCustomers); well-known folders cannot be changed */
        folderId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  updateFolder: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description A folder id, or a URL-encoded path (Inbox%2FCustomers); well-known folders cannot be changed */
        folderId: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          displayName?: string;
          parent?: string;
        };
      };
    };
    responses: {
      /** @description The folder after the change (its id does not change) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WrittenFolder'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  listConversation: {
    parameters: {
      query?: {
        top?: number;
        /** @description nextCursor of the previous page (bound to this conversation) */
        cursor?: string;
        includeBody?: 'true' | 'false';
        bodyFormat?: 'text' | 'html';
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        conversationId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One page, oldest first */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            messages: components['schemas']['Message'][];
            nextCursor: string | null;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  listMessages: {
    parameters: {
      query?: {
        /** @description Folder id or well-known name */
        folder?: string;
        unread?: 'true' | 'false';
        from?: string;
        /** @description Inclusive */
        receivedAfter?: string;
        /** @description Exclusive */
        receivedBefore?: string;
        hasAttachments?: 'true' | 'false';
        /** @description Subject contains */
        subject?: string;
        /** @description KQL search; not combinable with filters */
        search?: string;
        top?: number;
        /** @description The nextCursor of a previous page; send it alone or with the same parameters as the first page */
        cursor?: string;
        /** @description Comma-separated subset of the message fields (and body) */
        select?: string;
        includeBody?: 'true' | 'false';
        bodyFormat?: 'text' | 'html';
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One page */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            messages: components['schemas']['Message'][];
            nextCursor: string | null;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      429: components['responses']['Problem'];
    };
  };
  getMessage: {
    parameters: {
      query?: {
        bodyFormat?: 'text' | 'html';
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The message with its body */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Message'];
        };
      };
      404: components['responses']['Problem'];
    };
  };
  deleteMessage: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
        /** @description Graph's permanentDelete (into the dumpster's purges; mail clients cannot see it) */
        permanent?: 'true' | 'false';
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  updateMessage: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['MessageChange'];
      };
    };
    responses: {
      /** @description The message's state after the change */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActedMessage'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      429: components['responses']['Problem'];
    };
  };
  moveMessage: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Destination'];
      };
    };
    responses: {
      /** @description Moved; ids are immutable, so the id stays */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MovedMessage'];
        };
      };
      400: components['responses']['Problem'];
      /** @description The message, or the folder (a path names its first missing segment) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  copyMessage: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['Destination'];
      };
    };
    responses: {
      /** @description Copied */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MovedMessage'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  replyToMessage: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: {
        /** @description Repeats with the same key and body return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ReplyRequest'];
        'multipart/form-data': {
          /** @description The ReplyRequest as JSON; file parts are attachments, exactly as for send. */
          message: string;
        } & {
          [key: string]: string;
        };
      };
    };
    responses: {
      /** @description Sent (accepted by Exchange); the ids of the Sent Items copy */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SendResult'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
      429: components['responses']['Problem'];
      /** @description send_outcome_unknown (the problem carries the sendId; a repeat with the same Idempotency-Key never sends again) or a Graph error */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      503: components['responses']['Problem'];
    };
  };
  forwardMessage: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: {
        /** @description Repeats with the same key and body return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['ForwardRequest'];
        'multipart/form-data': {
          /** @description The ForwardRequest as JSON; file parts are attachments, exactly as for send. */
          message: string;
        } & {
          [key: string]: string;
        };
      };
    };
    responses: {
      /** @description Sent (accepted by Exchange); the ids of the Sent Items copy */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SendResult'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
      429: components['responses']['Problem'];
      /** @description send_outcome_unknown (the problem carries the sendId; a repeat with the same Idempotency-Key never sends again) or a Graph error */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      503: components['responses']['Problem'];
    };
  };
  createDraft: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DraftRequest'];
        'multipart/form-data': {
          /** @description The DraftRequest as JSON; file parts are attachments, exactly as for send. */
          message: string;
        } & {
          [key: string]: string;
        };
      };
    };
    responses: {
      /** @description The draft (in Drafts), its files added */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
      429: components['responses']['Problem'];
    };
  };
  getDraft: {
    parameters: {
      query?: {
        bodyFormat?: 'text' | 'html';
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The draft with its body */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      404: components['responses']['Problem'];
      /** @description The message is no draft (it was sent) */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  deleteDraft: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      404: components['responses']['Problem'];
      /** @description The message is no draft (it was sent) */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  updateDraft: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DraftChange'];
      };
    };
    responses: {
      /** @description The draft after the change */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      /** @description The message is no draft (it was sent) */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  addDraftAttachments: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          attachments: components['schemas']['AttachmentsInput'];
          fileSizes?: components['schemas']['FileSizes'];
        };
        'multipart/form-data': {
          /** @description Optional JSON {attachments?, fileSizes?} sent first; file parts are the files, exactly as for send (declared sizes let large files stream into upload sessions) */
          message?: string;
        } & {
          [key: string]: string;
        };
      };
    };
    responses: {
      /** @description The draft with its files added */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Draft'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
    };
  };
  sendDraft: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: {
        /** @description Repeats with the same key return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The draft's immutable id (from POST drafts) */
        draftId: components['parameters']['draftId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Sent (accepted by Exchange); the ids of the Sent Items copy */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SendResult'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      /** @description The draft was sent already (without an Idempotency-Key), or the key was used for another draft */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      429: components['responses']['Problem'];
      /** @description send_outcome_unknown (the problem carries the sendId) or a Graph error */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
    };
  };
  batchMessages: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: {
        /** @description Repeats with the same key and body return the first answer and act once (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['BatchCommand'];
      };
    };
    responses: {
      /** @description One result per message, in the order given; a bad id fails alone */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BatchResult'];
        };
      };
      /** @description More than the request's time budget allows at the mailbox's pace: what was done is kept and a queued job goes on with the rest; poll statusUrl (also in Location) */
      202: {
        headers: {
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BatchJob'] & {
            statusUrl: string;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  getBatchJob: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The job and one result per message, in the order given */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BatchJob'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  listAttachments: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Attachment metadata */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            attachments: components['schemas']['Attachment'][];
          };
        };
      };
      404: components['responses']['Problem'];
    };
  };
  downloadAttachment: {
    parameters: {
      query?: {
        /** @description A shared mailbox (UPN) to use instead of the signed-in user's; needs the Mail.*.Shared permissions */
        mailbox?: components['parameters']['mailbox'];
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description Immutable message id */
        messageId: components['parameters']['messageId'];
        attachmentId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The bytes, streamed, with content type and file name (item attachments as .eml) */
      200: {
        headers: {
          'Content-Disposition'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/octet-stream': string;
        };
      };
      404: components['responses']['Problem'];
    };
  };
  sendMail: {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key and body return the first answer and send nothing (24 h) */
        'Idempotency-Key'?: string;
      };
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SendRequest'];
        'multipart/form-data': {
          /**
           * @description The SendRequest as JSON. File parts of any field name are attachments (name and type
           *     from the part); an `attachments[]` entry `{file: "<field name>", isInline, contentId}`
           *     describes a file part, e.g. an inline image. Send it first, with `fileSizes`, so large
           *     files flow to Graph while they upload; otherwise files are spooled before sending.
           */
          message: string;
        } & {
          [key: string]: string;
        };
      };
    };
    responses: {
      /** @description Sent (accepted by Exchange); the ids of a message sent in one request come from GET …/sends/{sendId} */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SendResult'];
        };
      };
      400: components['responses']['Problem'];
      403: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
      429: components['responses']['Problem'];
      /** @description send_outcome_unknown (the problem carries the sendId; a repeat with the same Idempotency-Key never sends again) or a Graph error */
      502: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/problem+json': components['schemas']['Problem'];
        };
      };
      503: components['responses']['Problem'];
    };
  };
  getSend: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        /** @description The sendId a send, reply, forward, draft send or bulk result answered with */
        sendId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The send */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['SendStatus'];
        };
      };
      400: components['responses']['Problem'];
      401: components['responses']['Problem'];
      404: components['responses']['Problem'];
      429: components['responses']['Problem'];
      503: components['responses']['Problem'];
    };
  };
  listIdentities: {
    parameters: {
      query?: {
        /** @description Read Graph again instead of the cached answer */
        refresh?: 'true' | 'false';
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The credential's sender identities */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Identities'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      429: components['responses']['Problem'];
    };
  };
  getSignature: {
    parameters: {
      query?: {
        /** @description An alias or shared mailbox of the credential whose own signature this is (absent, or the primary address, is the credential's) */
        from?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The signature */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Signature'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  putSignature: {
    parameters: {
      query?: {
        /** @description An alias or shared mailbox of the credential whose own signature this is (absent, or the primary address, is the credential's) */
        from?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SignatureInput'];
      };
    };
    responses: {
      /** @description Stored, as it will be sent */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Signature'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
    };
  };
  deleteSignature: {
    parameters: {
      query?: {
        /** @description An alias or shared mailbox of the credential whose own signature this is (absent, or the primary address, is the credential's) */
        from?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  listTemplates: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The service's templates */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            templates: components['schemas']['Template'][];
          };
        };
      };
    };
  };
  createTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['TemplateInput'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Template'];
        };
      };
      400: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  getTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        templateId: components['parameters']['templateId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The template */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Template'];
        };
      };
      404: components['responses']['Problem'];
    };
  };
  updateTemplate: {
    parameters: {
      query?: never;
      header?: {
        /** @description The version the update is based on */
        'If-Match'?: string;
      };
      path: {
        templateId: components['parameters']['templateId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['TemplateInput'];
      };
    };
    responses: {
      /** @description Updated (version incremented) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Template'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      412: components['responses']['Problem'];
    };
  };
  deleteTemplate: {
    parameters: {
      query?: never;
      header?: {
        'If-Match'?: string;
      };
      path: {
        templateId: components['parameters']['templateId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      404: components['responses']['Problem'];
      412: components['responses']['Problem'];
    };
  };
  previewTemplate: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        templateId: components['parameters']['templateId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          /** Format: email */
          to?: string;
          cc?: string[];
          variables?: {
            [key: string]: unknown;
          };
          personalNote?: string;
          credentialId?: string;
          from?: components['schemas']['RecipientInput'];
          replyTo?: components['schemas']['Recipients'];
          signature?: boolean;
        };
      };
    };
    responses: {
      /** @description Exactly what would be sent */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            subject: string;
            body: string;
            /** @enum {string} */
            contentType: 'text' | 'html';
            from?: Record<string, never> | null;
            replyTo?: Record<string, never>[];
            /** @description The signature's images, attached inline with their contentId */
            inlineImages?: Record<string, never>[];
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  createBulkSend: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['BulkSendRequest'];
      };
    };
    responses: {
      /** @description Accepted; every recipient validated (a 400 lists every problem of every row at once, at most 500) */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            jobId: string;
            statusUrl: string;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      413: components['responses']['Problem'];
    };
  };
  getBulkSend: {
    parameters: {
      query?: {
        cursor?: string;
        top?: number;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Job status with one page of per-recipient results */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkSendStatus'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  cancelBulkSend: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Cancelled; recipients not yet sent end skipped */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkSendStatus'];
        };
      };
      404: components['responses']['Problem'];
    };
  };
  resumeBulkSend: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        jobId: components['parameters']['jobId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Resumed */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BulkSendStatus'];
        };
      };
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  previewReport: {
    parameters: {
      query?: {
        format?: 'html' | 'csv';
      };
      header?: never;
      path: {
        reportId: components['parameters']['reportId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The email's HTML, or the CSV attachment */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
          'text/csv': string;
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      429: components['responses']['Problem'];
    };
  };
  runReport: {
    parameters: {
      query?: never;
      header?: {
        /** @description Repeats with the same key send once (not combinable with dedupe=period) */
        'Idempotency-Key'?: string;
      };
      path: {
        reportId: components['parameters']['reportId'];
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': {
          /**
           * @description `period` shares the timer's run id, so nothing is sent if this period already went out
           * @default none
           * @enum {string}
           */
          dedupe?: 'none' | 'period';
        };
      };
    };
    responses: {
      /** @description Sent, or skipped with the reason */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ReportRun'];
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
      413: components['responses']['Problem'];
      415: components['responses']['Problem'];
      429: components['responses']['Problem'];
      502: components['responses']['Problem'];
      503: components['responses']['Problem'];
    };
  };
  listSubscriptions: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The caller's subscriptions on this credential */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            subscriptions: components['schemas']['Subscription'][];
          };
        };
      };
    };
  };
  createSubscription: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SubscriptionRequest'];
      };
    };
    responses: {
      /** @description Created; `signingSecret` is never shown again */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Subscription'] & {
            signingSecret: string;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  getSubscription: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The subscription (`status` active, paused or disabled, with a `reason`) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Subscription'];
        };
      };
      404: components['responses']['Problem'];
    };
  };
  deleteSubscription: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted; the folder's Graph subscription ends with its last user */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      404: components['responses']['Problem'];
    };
  };
  rotateSubscriptionSecret: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A new signing secret, shown once; the old one stops at once */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Subscription'] & {
            signingSecret: string;
          };
        };
      };
      404: components['responses']['Problem'];
    };
  };
  listDeliveries: {
    parameters: {
      query?: {
        /** @description failed = retrying or dead-lettered; pending = not yet delivered */
        status?: 'failed' | 'pending' | 'delivered' | 'all';
        top?: number;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Newest first */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            deliveries: components['schemas']['Delivery'][];
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  retryDelivery: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
        subscriptionId: components['parameters']['subscriptionId'];
        /** @description The event's `webhook-id` */
        deliveryId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Queued for redelivery with a fresh retry window */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Delivery'];
        };
      };
      404: components['responses']['Problem'];
      409: components['responses']['Problem'];
    };
  };
  listChanges: {
    parameters: {
      query?: {
        /** @description Folder id, well-known name or path (ignored with a cursor) */
        folder?: string;
        /** @description Without one, no events and a cursor for "from now on" */
        cursor?: string;
      };
      header?: never;
      path: {
        credentialId: components['parameters']['credentialId'];
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description One page of events and the cursor to continue from (always present) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            events: (components['schemas']['WebhookEvent'] & {
              /** @description Stable per change */
              id: string;
            })[];
            nextCursor: string;
          };
        };
      };
      400: components['responses']['Problem'];
      404: components['responses']['Problem'];
    };
  };
  graphNotifications: {
    parameters: {
      query?: {
        validationToken?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': Record<string, never>;
      };
    };
    responses: {
      /** @description The handshake, echoing validationToken */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description Accepted (items with a wrong clientState are dropped and counted) */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Problem'];
    };
  };
  graphLifecycle: {
    parameters: {
      query?: {
        validationToken?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': Record<string, never>;
      };
    };
    responses: {
      /** @description The handshake, echoing validationToken */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
      /** @description Accepted */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['Problem'];
    };
  };
  mcp: {
    parameters: {
      query?: never;
      header: {
        /** @description Must list both application/json and text/event-stream */
        Accept: string;
        'MCP-Protocol-Version'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json':
          components['schemas']['JsonRpcMessage'] | components['schemas']['JsonRpcMessage'][];
      };
    };
    responses: {
      /** @description The JSON-RPC answer (tool failures are results with isError, not HTTP errors) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            components['schemas']['JsonRpcMessage'] | components['schemas']['JsonRpcMessage'][];
        };
      };
      /** @description Notifications or responses only; nothing to answer */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Not a JSON-RPC message (a JSON-RPC error), or a caller problem */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      401: components['responses']['Problem'];
      /** @description Accept does not list application/json and text/event-stream */
      406: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      413: components['responses']['Problem'];
    };
  };
}
