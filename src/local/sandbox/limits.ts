import { throttled } from './errors';

/** Every Graph/Exchange/identity limit the sandbox enforces; all configurable so tests can shrink windows. */
export interface SandboxLimits {
  /** Concurrent requests per app per mailbox (Outlook: 4). */
  mailboxConcurrency: number;
  /** Requests per app per mailbox per `requestWindowMs` (Outlook: 10,000 per 10 minutes). */
  requestsPerWindow: number;
  requestWindowMs: number;
  /** Upload bytes (PATCH/POST/PUT) per app per mailbox per `uploadWindowMs` (Outlook: 150 MB per 5 minutes, decimal). */
  uploadBytesPerWindow: number;
  uploadWindowMs: number;
  /** Messages sent per mailbox per `sendWindowMs` (Exchange: 30 per minute); excess waits in the Outbox. */
  messagesPerSendWindow: number;
  sendWindowMs: number;
  /**
   * How long after a message leaves the Outbox its Sent Items copy appears: the docs say the copy
   * "may take time" to show up after sendMail/send answer 202 (Exchange: seconds, occasionally more).
   */
  sentItemsDelayMs: number;
  /** To+Cc+Bcc per message (Exchange: 500). */
  recipientsPerMessage: number;
  /** Graph's total request size limit (4 MB, decimal: 4,000,000 bytes). */
  maxRequestBytes: number;
  /** Largest PUT to an upload URL (docs: up to 4 MB per range, decimal). */
  maxUploadChunkBytes: number;
  /** Upload sessions are for attachments of at least 3 MB (decimal: 3,000,000 bytes). */
  minUploadSessionBytes: number;
  /** Largest attachment through an upload session (150 MB, decimal). */
  maxAttachmentBytes: number;
  /** The mailbox's MaxSendSize on the message as sent (encoded): 35 MB by default, 150 MB at most. */
  maxSendSizeBytes: number;
  uploadSessionLifetimeSeconds: number;
  /** Requests per JSON batch (20). */
  maxBatchRequests: number;
  /** `$search` returns at most this many messages (1,000). */
  searchMaxResults: number;
  /** Authorization codes live about 10 minutes. */
  authCodeLifetimeSeconds: number;
  /** Refresh tokens expire after 90 days without use. */
  refreshTokenInactivitySeconds: number;
  /** Longest lifetime of a message subscription (10,080 minutes). */
  subscriptionMaxMinutes: number;
  /** Active subscriptions per mailbox, all apps together (1,000). */
  subscriptionsPerMailbox: number;
  /** Time an endpoint has to answer the validation request (10 s). */
  validationTimeoutMs: number;
  /** Time an endpoint has to answer a notification with a 2xx before Graph retries it (3 s). */
  notificationTimeoutMs: number;
  /** First retry of an unanswered notification; later retries back off exponentially. */
  notificationRetryMs: number;
  /** How long Graph keeps retrying a notification before it discards it (4 hours). */
  notificationRetryWindowMs: number;
  /** Age at which a delta token is no longer honoured (410 syncStateNotFound). */
  deltaTokenLifetimeMs: number;
}

/**
 * Sizes the docs give in MB are decimal (4 MB = 4,000,000 bytes), the stricter reading: a product
 * that assumed MiB would pass here and fail against Microsoft 365.
 */
const MB = 1_000_000;

export const DEFAULT_LIMITS: SandboxLimits = {
  mailboxConcurrency: 4,
  requestsPerWindow: 10_000,
  requestWindowMs: 10 * 60_000,
  uploadBytesPerWindow: 150 * MB,
  uploadWindowMs: 5 * 60_000,
  messagesPerSendWindow: 30,
  sendWindowMs: 60_000,
  sentItemsDelayMs: 400,
  recipientsPerMessage: 500,
  maxRequestBytes: 4 * MB,
  maxUploadChunkBytes: 4 * MB,
  minUploadSessionBytes: 3 * MB,
  maxAttachmentBytes: 150 * MB,
  maxSendSizeBytes: 35 * MB,
  uploadSessionLifetimeSeconds: 15 * 60,
  maxBatchRequests: 20,
  searchMaxResults: 1000,
  authCodeLifetimeSeconds: 600,
  refreshTokenInactivitySeconds: 90 * 86_400,
  subscriptionMaxMinutes: 10_080,
  subscriptionsPerMailbox: 1000,
  validationTimeoutMs: 10_000,
  notificationTimeoutMs: 3000,
  notificationRetryMs: 1000,
  notificationRetryWindowMs: 4 * 3600_000,
  deltaTokenLifetimeMs: 30 * 86_400_000,
};

/** Timestamps (and weights) inside a sliding window. */
class Window {
  private readonly events: Array<{ at: number; weight: number }> = [];
  private total = 0;

  trim(now: number, windowMs: number): void {
    while (this.events.length > 0 && this.events[0]!.at <= now - windowMs) {
      this.total -= this.events.shift()!.weight;
    }
  }
  add(now: number, weight: number): void {
    this.events.push({ at: now, weight });
    this.total += weight;
  }
  sum(): number {
    return this.total;
  }
  /** When enough weight has left the window for `needed` more to fit under `limit`. */
  freeAt(windowMs: number, limit: number, needed: number): number {
    let excess = this.total + needed - limit;
    for (const e of this.events) {
      excess -= e.weight;
      if (excess <= 0) return e.at + windowMs;
    }
    return Date.now() + windowMs;
  }
}

export interface ThrottleCounts {
  mailboxConcurrency: number;
  requestWindow: number;
  uploadWindow: number;
}

export class LimitTracker {
  private readonly inFlight = new Map<string, number>();
  private readonly requests = new Map<string, Window>();
  private readonly uploads = new Map<string, Window>();
  private readonly sends = new Map<string, number[]>();
  /** 429s answered so far, by the limit that was over (tests and the benchmark read them). */
  readonly throttled: ThrottleCounts = { mailboxConcurrency: 0, requestWindow: 0, uploadWindow: 0 };

  constructor(readonly limits: SandboxLimits) {}

  private window(map: Map<string, Window>, key: string): Window {
    let w = map.get(key);
    if (!w) map.set(key, (w = new Window()));
    return w;
  }

  /**
   * Admits one request for app+mailbox or throws Graph's 429. Every request accrues against the
   * 10-minute budget, throttled ones included (Graph keeps counting while a client is throttled).
   * Returns the release function for the concurrency slot.
   */
  admit(appId: string, mailboxId: string): () => void {
    const key = `${appId}|${mailboxId}`;
    const now = Date.now();
    const w = this.window(this.requests, key);
    w.trim(now, this.limits.requestWindowMs);
    w.add(now, 1);
    if (w.sum() > this.limits.requestsPerWindow) {
      this.throttled.requestWindow++;
      const retryMs = w.freeAt(this.limits.requestWindowMs, this.limits.requestsPerWindow, 0) - now;
      throw throttled('Please retry again later.', retryMs / 1000);
    }
    const running = this.inFlight.get(key) ?? 0;
    if (running >= this.limits.mailboxConcurrency) {
      this.throttled.mailboxConcurrency++;
      throw throttled('Application is over its MailboxConcurrency limit.', 1);
    }
    this.inFlight.set(key, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
    };
  }

  /** Counts uploaded bytes (PATCH/POST/PUT bodies) against the per-mailbox upload budget. */
  countUpload(appId: string, mailboxId: string, bytes: number): void {
    if (bytes <= 0) return;
    const now = Date.now();
    const w = this.window(this.uploads, `${appId}|${mailboxId}`);
    w.trim(now, this.limits.uploadWindowMs);
    if (w.sum() + bytes > this.limits.uploadBytesPerWindow) {
      this.throttled.uploadWindow++;
      const retryMs =
        w.freeAt(this.limits.uploadWindowMs, this.limits.uploadBytesPerWindow, bytes) - now;
      throw throttled(
        'Application is over its upload limit. Please retry again later.',
        retryMs / 1000,
      );
    }
    w.add(now, bytes);
  }

  /**
   * Reserves the next send slot for a mailbox (Exchange's message rate). Returns when the message may
   * leave the Outbox: now if under the rate, otherwise the earliest time that keeps the rate.
   */
  reserveSend(mailboxId: string, now = Date.now()): number {
    const limit = this.limits.messagesPerSendWindow;
    const windowMs = this.limits.sendWindowMs;
    const slots = this.sends.get(mailboxId) ?? [];
    const recent = slots.filter((t) => t > now - windowMs);
    // The slot after the limit-th most recent reservation keeps any window at `limit` messages.
    const at =
      recent.length < limit ? now : Math.max(now, recent[recent.length - limit]! + windowMs);
    recent.push(at);
    this.sends.set(mailboxId, recent);
    return at;
  }
}
