import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { UpstreamError } from '../../src/core/errors';
import { type AzuriteInstance } from '../../src/local/azurite';
import {
  type CallerSubscription,
  createNotificationStore,
  type Delivery,
  type NotificationStore,
  type Watch,
  watchKey,
} from '../../src/notifications/store';
import { storageClientsFor, testStorage } from '../support/storage';

const key = { serviceId: 'svc', credentialId: 'c1' };
let azurite: AzuriteInstance;
let store: NotificationStore;

beforeAll(async () => {
  azurite = await testStorage();
  const storage = storageClientsFor(azurite);
  store = createNotificationStore((name) => storage.table(name));
});
afterAll(() => azurite?.stop());

const subscription = (id: string, extra: Partial<CallerSubscription> = {}): CallerSubscription => ({
  ...key,
  subscriptionId: id,
  folderId: 'AAMkInbox',
  folder: 'inbox',
  events: ['created', 'updated'],
  webhookUrl: 'https://hooks.example/in',
  fields: ['id', 'subject'],
  sealedSecret: 'sealed',
  status: 'active',
  reason: undefined,
  createdAt: '2026-06-01T00:00:00.000Z',
  ...extra,
});

describe('notification store: subscription table', () => {
  it('keeps a subscription as it was given, lists a credential, counts a service', async () => {
    const paused = subscription('s2', { status: 'paused', reason: 'reauth_required' });
    await store.putSubscription(subscription('s1'));
    await store.putSubscription(paused);
    // Another credential of the service, and a service whose id starts with this one's.
    await store.putSubscription(subscription('s3', { credentialId: 'c2' }));
    await store.putSubscription(subscription('s4', { serviceId: 'svc2' }));
    expect(await store.getSubscription(key, 's2')).toEqual(paused);
    expect((await store.listSubscriptions(key, 10)).map((s) => s.subscriptionId)).toEqual([
      's1',
      's2',
    ]);
    expect(await store.listSubscriptions(key, 1)).toHaveLength(1);
    expect(await store.countForService('svc', 100)).toBe(3);
    await store.deleteSubscription(key, 's1');
    await store.deleteSubscription(key, 's1'); // already gone: done
    expect(await store.getSubscription(key, 's1')).toBeUndefined();
  });

  it('a delivery disabling while the caller rotates the secret: both writes survive', async () => {
    await store.putSubscription(subscription('r1'));
    // The delivery read the subscription before its webhook call; the caller rotates the secret
    // meanwhile; then the delivery disables it.
    const read = (await store.getSubscription(key, 'r1'))!;
    expect(await store.setSecret(key, 'r1', 'sealed-2')).toBe(true);
    expect(await store.setStatus(read, read.subscriptionId, 'disabled', 'receiver_gone')).toBe(
      true,
    );
    expect(await store.getSubscription(key, 'r1')).toMatchObject({
      sealedSecret: 'sealed-2',
      status: 'disabled',
      reason: 'receiver_gone',
    });
    // Disabled is final: a resume announced late leaves it.
    expect(await store.setStatus(key, 'r1', 'active', undefined)).toBe(false);
    expect(await store.getSubscription(key, 'r1')).toMatchObject({ status: 'disabled' });
  });

  it('a pause or resume keeps the secret, and a resume clears the reason', async () => {
    await store.putSubscription(subscription('r2'));
    expect(await store.setStatus(key, 'r2', 'paused', 'reauth_required')).toBe(true);
    expect(await store.setSecret(key, 'r2', 'sealed-3')).toBe(true);
    expect(await store.setStatus(key, 'r2', 'active', undefined)).toBe(true);
    const after = await store.getSubscription(key, 'r2');
    expect(after).toMatchObject({ sealedSecret: 'sealed-3', status: 'active' });
    expect(after?.reason).toBeUndefined();
  });

  it('a subscription deleted while a delivery or a rotation is under way is not recreated', async () => {
    await store.putSubscription(subscription('r3'));
    const read = (await store.getSubscription(key, 'r3'))!;
    await store.deleteSubscription(key, 'r3');
    expect(await store.setStatus(read, read.subscriptionId, 'disabled', 'receiver_gone')).toBe(
      false,
    );
    expect(await store.setSecret(key, 'r3', 'sealed-4')).toBe(false);
    expect(await store.getSubscription(key, 'r3')).toBeUndefined();
  });
});

describe('notification store: watch table', () => {
  const watch: Watch = {
    ...key,
    folderId: 'AAMk/folder+id=',
    root: '/users/adele@contoso.example',
    graphSubscriptionId: undefined,
    clientStateHash: undefined,
    expiresAt: 1_000,
    deltaLink: undefined,
    status: 'active',
    since: 10,
    lastRunStart: 0,
  };

  it('inserts once, then replaces only over the etag it read', async () => {
    expect(await store.saveWatch(watch)).toBe(true);
    expect(await store.saveWatch(watch)).toBe(false); // inserted by someone else first
    const read = (await store.getWatch(key, watch.folderId))!;
    expect(read).toEqual({ ...watch, etag: expect.any(String) });
    const updated = {
      ...read,
      deltaLink: 'https://graph/delta?token=1',
      status: 'paused' as const,
    };
    expect(await store.saveWatch(updated)).toBe(true);
    expect(await store.saveWatch({ ...updated, lastRunStart: 5 })).toBe(false); // stale etag
    expect(await store.getWatch(key, watch.folderId)).toMatchObject({
      deltaLink: 'https://graph/delta?token=1',
      status: 'paused',
      lastRunStart: 0,
    });
  });

  it('finds a watch by its Graph subscription, and lists watches without the links', async () => {
    const other = { ...watch, folderId: 'AAMkOther', graphSubscriptionId: 'g-2' };
    await store.saveWatch(other);
    await store.linkGraphSubscription('g-2', other);
    expect(await store.watchOfGraphSubscription('g-2')).toMatchObject({ folderId: 'AAMkOther' });
    expect((await store.allWatches(100)).map((w) => w.folderId).sort()).toEqual([
      'AAMk/folder+id=',
      'AAMkOther',
    ]);
    await store.unlinkGraphSubscription('g-2');
    expect(await store.watchOfGraphSubscription('g-2')).toBeUndefined();
    await store.deleteWatch(other);
    await store.deleteWatch(other);
    expect(await store.getWatch(key, 'AAMkOther')).toBeUndefined();
  });
});

describe('notification store: seen table', () => {
  it('remembers the change key per message of a watch', async () => {
    const wk = watchKey(key, 'AAMkInbox');
    await store.markSeen(wk, 'm1', 'ck-1');
    await store.markSeen(wk, 'm2', null);
    await store.markSeen(watchKey(key, 'AAMkOther'), 'm3', 'ck-3');
    expect(await store.seen(wk, 'm1')).toBe('ck-1');
    expect(await store.seen(wk, 'm3')).toBeUndefined();
    expect([...(await store.seenAll(wk, 10)).values()].sort()).toEqual(['', 'ck-1']);
    await store.forget(wk, 'm1');
    await store.forget(wk, 'm1');
    expect(await store.seen(wk, 'm1')).toBeUndefined();
  });
});

describe('notification store: delivery table', () => {
  const delivery = (id: string, createdAt: number, extra: Partial<Delivery> = {}): Delivery => ({
    subscriptionId: 's1',
    deliveryId: id,
    ...key,
    event: {
      type: 'message.created',
      credentialId: 'c1',
      subscriptionId: 's1',
      occurredAt: '2026-06-01T00:00:00.000Z',
      data: { id: 'm1', subject: 'Hi' },
    },
    status: 'pending',
    attempts: 0,
    lastStatusCode: undefined,
    lastError: undefined,
    createdAt,
    lastAttemptAt: undefined,
    nextAttemptAt: undefined,
    ...extra,
  });

  it('registers a change once, and keeps what each attempt changed', async () => {
    expect(await store.addDelivery(delivery('d1', 1))).toBe(true);
    expect(await store.addDelivery(delivery('d1', 2))).toBe(false);
    await store.updateDelivery(
      delivery('d1', 1, {
        status: 'retrying',
        attempts: 1,
        lastStatusCode: 500,
        lastError: 'x'.repeat(5_000),
        lastAttemptAt: 3,
        nextAttemptAt: 4,
      }),
    );
    const read = (await store.getDelivery('s1', 'd1'))!;
    expect(read).toMatchObject({
      status: 'retrying',
      attempts: 1,
      lastStatusCode: 500,
      lastAttemptAt: 3,
      nextAttemptAt: 4,
      event: delivery('d1', 1).event,
    });
    // Whatever a receiver answered, the stored text is bounded.
    expect(read.lastError).toHaveLength(500);
  });

  it('lists the newest deliveries of the asked statuses first', async () => {
    await store.addDelivery(delivery('d2', 20));
    await store.addDelivery(delivery('d3', 30, { status: 'delivered' }));
    await store.addDelivery(delivery('d4', 40));
    const pending = await store.listDeliveries('s1', ['pending', 'retrying'], 2);
    expect(pending.map((d) => d.deliveryId)).toEqual(['d4', 'd2']);
  });

  it('answers store_unavailable naming what it was doing when storage fails', async () => {
    const broken = createNotificationStore(() => Promise.reject(new Error('ECONNREFUSED')));
    const error = await broken.getDelivery('s1', 'd1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ code: 'store_unavailable' });
    expect((error as Error).message).toContain('reading a delivery');
  });
});
