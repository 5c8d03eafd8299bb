import { randomUUID } from 'node:crypto';
import type { SandboxLimits } from './limits';
import type { Folder, Mailbox, MailStore } from './store';
import { createPrng, type Prng } from './util';

/**
 * Change notifications as Microsoft documents them for Outlook messages ("Receive change
 * notifications through webhooks", "Reduce missing subscriptions and change notifications"):
 * notifications without resource data POSTed to the `notificationUrl` as a
 * `changeNotificationCollection`, retried while the endpoint does not answer 2xx within 3 s (for up to
 * 4 hours, then discarded and reported as `missed`), and lifecycle notifications to the
 * `lifecycleNotificationUrl`. Every mailbox change stamp schedules one scan of the mailbox's
 * subscriptions, so notifications go out at once, as Graph's do within its SLA.
 */

export type ChangeType = 'created' | 'updated' | 'deleted';
export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface SandboxSubscription {
  id: string;
  clientId: string;
  /** The signed-in user who created it (delegated subscriptions are listed per app and user). */
  creatorId: string;
  mailbox: Mailbox;
  /** Null for a mailbox-wide `messages` resource. */
  folder: Folder | null;
  resource: string;
  changeTypes: ChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expiresMs: number;
  /** Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids. */
  immutableIds: boolean;
  /** Changes up to this mailbox sequence have been notified (or lost while paused). */
  watermark: number;
  /** After `reauthorizationRequired`: delivery pauses until reauthorize or renewal. */
  needsReauthorization: boolean;
  timer: NodeJS.Timeout | null;
}

/** Test knobs on notification delivery (counts are consumed first, then probabilities apply). */
export interface NotificationFaults {
  /** Silently drop the next N change notifications (never delivered, never reported). */
  drop?: number;
  dropProbability?: number;
  /** Deliver the next N change notifications twice. */
  duplicate?: number;
  duplicateProbability?: number;
  /** Hold every notification POST this long first. */
  delayMs?: number;
}

export interface NotificationStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  retried: number;
  discarded: number;
}

/** Graph posts change notifications in collections; it documents no size, so keep them small. */
const MAX_PER_POST = 20;
const MAX_RETRY_DELAY_MS = 15 * 60_000;

type Notification = Record<string, unknown>;

export class NotificationHub {
  readonly subscriptions = new Map<string, SandboxSubscription>();
  readonly stats: NotificationStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    retried: 0,
    discarded: 0,
  };
  private faults: NotificationFaults = {};
  private readonly rnd: Prng;
  private readonly pendingScans = new Set<Mailbox>();
  private readonly aborter = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: MailStore,
    private readonly limits: SandboxLimits,
    private readonly tenantId: string,
    seed: number,
  ) {
    this.rnd = createPrng(seed ^ 0x0b5e);
    store.onChange = (mailbox) => this.schedule(mailbox);
  }

  setFaults(faults: NotificationFaults): void {
    this.faults = { ...faults };
  }

  add(sub: SandboxSubscription): void {
    this.subscriptions.set(sub.id, sub);
    this.armExpiry(sub);
  }

  remove(sub: SandboxSubscription): void {
    if (sub.timer) clearTimeout(sub.timer);
    this.subscriptions.delete(sub.id);
  }

  /** Graph deletes a subscription that was not renewed in time. */
  armExpiry(sub: SandboxSubscription): void {
    if (sub.timer) clearTimeout(sub.timer);
    sub.timer = setTimeout(() => this.remove(sub), Math.max(0, sub.expiresMs - Date.now()));
    sub.timer.unref();
  }

  countFor(mailbox: Mailbox): number {
    let n = 0;
    for (const s of this.subscriptions.values()) if (s.mailbox === mailbox) n++;
    return n;
  }

  /** Sends a lifecycle notification; `subscriptionRemoved` also removes the subscription. */
  lifecycle(sub: SandboxSubscription, event: LifecycleEvent): void {
    if (event === 'subscriptionRemoved') this.remove(sub);
    if (event === 'reauthorizationRequired') sub.needsReauthorization = true;
    if (!sub.lifecycleNotificationUrl) return;
    const item = {
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: new Date(sub.expiresMs).toISOString(),
      tenantId: this.tenantId,
      clientState: sub.clientState,
      lifecycleEvent: event,
    };
    this.post(sub, sub.lifecycleNotificationUrl, [item], Date.now(), false);
  }

  close(): void {
    this.aborter.abort();
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.subscriptions.values()) if (s.timer) clearTimeout(s.timer);
    this.store.onChange = null;
  }

  private schedule(mailbox: Mailbox): void {
    if (this.subscriptions.size === 0) return;
    // "Any notifications about resource changes that happen when the change notification delivery
    // pauses ... are lost": a paused subscription skips the change as it happens.
    for (const sub of this.subscriptions.values())
      if (sub.mailbox === mailbox && sub.needsReauthorization) sub.watermark = mailbox.seq;
    if (this.pendingScans.has(mailbox)) return;
    this.pendingScans.add(mailbox);
    // After the current handler's synchronous changes: one scan covers them all.
    queueMicrotask(() => {
      this.pendingScans.delete(mailbox);
      for (const sub of this.subscriptions.values()) if (sub.mailbox === mailbox) this.scan(sub);
    });
  }

  private scan(sub: SandboxSubscription): void {
    const since = sub.watermark;
    sub.watermark = sub.mailbox.seq;
    if (sub.needsReauthorization || sub.expiresMs <= Date.now()) return;
    const folders = sub.folder ? [sub.folder] : [...sub.mailbox.foldersById.values()];
    const changes: Array<{ seq: number; type: ChangeType; id: string; changeKey: string | null }> =
      [];
    for (const folder of folders) {
      for (const m of folder.messages) {
        if (m.seq <= since) continue;
        changes.push({
          seq: m.seq,
          type: m.arrivedSeq > since ? 'created' : 'updated',
          id: sub.immutableIds ? m.immutableId : m.restId,
          changeKey: m.changeKey,
        });
      }
      for (const t of folder.tombstones) {
        if (t.seq > since)
          changes.push({
            seq: t.seq,
            type: 'deleted',
            id: sub.immutableIds ? t.immutableId : t.restId,
            changeKey: null,
          });
      }
    }
    changes.sort((a, b) => a.seq - b.seq);
    const items: Notification[] = [];
    for (const change of changes) {
      if (!sub.changeTypes.includes(change.type)) continue;
      if (this.shouldDrop()) {
        this.stats.dropped++;
        continue;
      }
      const item = this.notification(sub, change.type, change.id, change.changeKey);
      items.push(item);
      if (this.shouldDuplicate()) {
        this.stats.duplicated++;
        items.push(item);
      }
    }
    for (let i = 0; i < items.length; i += MAX_PER_POST)
      this.post(sub, sub.notificationUrl, items.slice(i, i + MAX_PER_POST), Date.now(), true);
  }

  private notification(
    sub: SandboxSubscription,
    changeType: ChangeType,
    id: string,
    changeKey: string | null,
  ): Notification {
    const path = `Users/${sub.mailbox.user.id}/Messages/${id}`;
    return {
      id: randomUUID().replace(/-/g, '').slice(0, 13),
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: new Date(sub.expiresMs).toISOString(),
      changeType,
      resource: path,
      clientState: sub.clientState,
      tenantId: this.tenantId,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': path,
        ...(changeKey ? { '@odata.etag': `W/"${changeKey}"` } : {}),
        id,
      },
    };
  }

  private shouldDrop(): boolean {
    if ((this.faults.drop ?? 0) > 0) {
      this.faults.drop! -= 1;
      return true;
    }
    return this.faults.dropProbability !== undefined && this.rnd() < this.faults.dropProbability;
  }

  private shouldDuplicate(): boolean {
    if ((this.faults.duplicate ?? 0) > 0) {
      this.faults.duplicate! -= 1;
      return true;
    }
    return (
      this.faults.duplicateProbability !== undefined &&
      this.rnd() < this.faults.duplicateProbability
    );
  }

  /** One POST; a non-2xx answer, a timeout or a refused connection is retried with backoff. */
  private post(
    sub: SandboxSubscription,
    url: string,
    items: Notification[],
    firstTryMs: number,
    isChange: boolean,
    attempt = 0,
  ): void {
    const run = async (): Promise<void> => {
      if (this.faults.delayMs) await this.wait(this.faults.delayMs);
      if (this.aborter.signal.aborted) return;
      if (isChange) this.stats.sent += items.length;
      let ok = false;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
          body: JSON.stringify({ value: items }),
          signal: AbortSignal.any([
            this.aborter.signal,
            AbortSignal.timeout(this.limits.notificationTimeoutMs),
          ]),
        });
        await res.arrayBuffer().catch(() => undefined);
        ok = res.status >= 200 && res.status < 300;
      } catch {
        ok = false;
      }
      if (this.aborter.signal.aborted) return;
      if (ok) {
        if (isChange) this.stats.delivered += items.length;
        return;
      }
      const delay = Math.min(this.limits.notificationRetryMs * 2 ** attempt, MAX_RETRY_DELAY_MS);
      if (Date.now() + delay - firstTryMs > this.limits.notificationRetryWindowMs) {
        this.stats.discarded += items.length;
        if (isChange && this.subscriptions.has(sub.id)) this.lifecycle(sub, 'missed');
        return;
      }
      this.stats.retried += items.length;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.post(sub, url, items, firstTryMs, isChange, attempt + 1);
      }, delay);
      this.timers.add(timer);
    };
    void run();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
