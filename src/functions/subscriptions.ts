import * as z from 'zod';

import { parseQuery, queryTop, readJson, routeId } from '../http/parse';
import { type Notifications } from '../notifications';
import { subscriptionRequestSchema } from '../notifications/service';
import { credentialKey } from '../http/params';
import { type HttpFunctionDefinition } from '../http/definitions';

const noStore = { 'cache-control': 'no-store' };

const deliveriesQuery = z.strictObject({
  status: z.enum(['failed', 'pending', 'delivered', 'all']).default('all'),
  top: queryTop(1000, 100),
});

const changesQuery = z.strictObject({
  folder: z.string().min(1).max(512).default('inbox'),
  cursor: z.string().min(1).max(8192).optional(),
});

/** Caller routes of new-mail triggers: subscriptions, their deliveries, and polling for changes. */
export function subscriptionFunctions(
  notifications: () => Notifications,
  options: { allowLoopbackHttp: boolean },
): HttpFunctionDefinition[] {
  const schema = subscriptionRequestSchema(options);
  const base = 'credentials/{credentialId}/subscriptions';
  const service = () => notifications().subscriptions;
  return [
    {
      kind: 'http',
      name: 'subscriptionsCreate',
      methods: ['POST'],
      route: base,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const { value } = await readJson(invocation.request, schema);
        const created = await service().create(key, value, { log: invocation.log });
        return { status: 201, headers: noStore, jsonBody: created };
      },
    },
    {
      kind: 'http',
      name: 'subscriptionsList',
      methods: ['GET'],
      route: base,
      auth: 'caller',
      async handler(invocation) {
        const subscriptions = await service().list(credentialKey(invocation));
        return { status: 200, headers: noStore, jsonBody: { subscriptions } };
      },
    },
    {
      kind: 'http',
      name: 'subscriptionsGet',
      methods: ['GET', 'DELETE'],
      route: `${base}/{subscriptionId}`,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const id = routeId(invocation.request, 'subscriptionId');
        if (invocation.request.method === 'DELETE') {
          await service().remove(key, id, { log: invocation.log });
          return { status: 204 };
        }
        return { status: 200, headers: noStore, jsonBody: await service().get(key, id) };
      },
    },
    {
      kind: 'http',
      name: 'subscriptionsRotateSecret',
      methods: ['POST'],
      route: `${base}/{subscriptionId}/rotate-secret`,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const id = routeId(invocation.request, 'subscriptionId');
        return { status: 200, headers: noStore, jsonBody: await service().rotateSecret(key, id) };
      },
    },
    {
      kind: 'http',
      name: 'subscriptionsDeliveries',
      methods: ['GET'],
      route: `${base}/{subscriptionId}/deliveries`,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const id = routeId(invocation.request, 'subscriptionId');
        const query = parseQuery(invocation.request, deliveriesQuery);
        const deliveries = await service().deliveries(key, id, query);
        return { status: 200, headers: noStore, jsonBody: { deliveries } };
      },
    },
    {
      kind: 'http',
      name: 'subscriptionsRetryDelivery',
      methods: ['POST'],
      route: `${base}/{subscriptionId}/deliveries/{deliveryId}/retry`,
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const id = routeId(invocation.request, 'subscriptionId');
        const deliveryId = routeId(invocation.request, 'deliveryId');
        const delivery = await service().retry(key, id, deliveryId);
        return { status: 202, headers: noStore, jsonBody: delivery };
      },
    },
    {
      kind: 'http',
      name: 'changesList',
      methods: ['GET'],
      route: 'credentials/{credentialId}/changes',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const query = parseQuery(invocation.request, changesQuery);
        const n = notifications();
        // With a cursor the folder is the cursor's; it is resolved only to start one.
        const folderId = query.cursor
          ? ''
          : await n.subscriptions.resolveFolder(key, query.folder, { log: invocation.log });
        const page = await n.changes.poll(
          key,
          { folderId, cursor: query.cursor },
          { log: invocation.log },
        );
        return { status: 200, headers: noStore, jsonBody: page };
      },
    },
  ];
}
