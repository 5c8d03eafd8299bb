import { type CallOptions, type JsonBody, type Query, type Transport } from './transport';

/** New-mail triggers: webhook subscriptions and their deliveries, and the polled changes. */
export function subscriptionCalls({ api, call }: Transport, credentialId: string) {
  const path = { credentialId };
  const subscriptionPath = (subscriptionId: string) => ({ credentialId, subscriptionId });
  return {
    subscriptions: {
      create: (request: JsonBody<'createSubscription'>, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/subscriptions', {
              params: { path },
              body: request,
              signal,
            }),
          o,
        ),
      list: (o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/subscriptions', { params: { path }, signal }),
          o,
        ),
      get: (subscriptionId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/subscriptions/{subscriptionId}', {
              params: { path: subscriptionPath(subscriptionId) },
              signal,
            }),
          o,
        ),
      delete: (subscriptionId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.DELETE('/credentials/{credentialId}/subscriptions/{subscriptionId}', {
              params: { path: subscriptionPath(subscriptionId) },
              signal,
            }),
          o,
        ),
      rotateSecret: (subscriptionId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST('/credentials/{credentialId}/subscriptions/{subscriptionId}/rotate-secret', {
              params: { path: subscriptionPath(subscriptionId) },
              signal,
            }),
          o,
        ),
      deliveries: (subscriptionId: string, query: Query<'listDeliveries'> = {}, o?: CallOptions) =>
        call(
          (signal) =>
            api.GET('/credentials/{credentialId}/subscriptions/{subscriptionId}/deliveries', {
              params: { path: subscriptionPath(subscriptionId), query },
              signal,
            }),
          o,
        ),
      retryDelivery: (subscriptionId: string, deliveryId: string, o?: CallOptions) =>
        call(
          (signal) =>
            api.POST(
              '/credentials/{credentialId}/subscriptions/{subscriptionId}/deliveries/{deliveryId}/retry',
              { params: { path: { credentialId, subscriptionId, deliveryId } }, signal },
            ),
          o,
        ),
    },
    /** One page of new-mail events from a cursor (without one: a cursor for "from now on"). */
    changes: (query: Query<'listChanges'> = {}, o?: CallOptions) =>
      call(
        (signal) =>
          api.GET('/credentials/{credentialId}/changes', { params: { path, query }, signal }),
        o,
      ),
  };
}
