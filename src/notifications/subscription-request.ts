import * as z from 'zod';

import { internalRangeOf } from '../core/addresses';

import { eventFieldSchema, MESSAGE_EVENTS } from './events';

/**
 * Private, loopback and link-local hosts a webhook must not point at in Azure: address literals
 * (the ranges of `internalRangeOf`) and `localhost`. A name resolving there is refused when
 * a delivery connects (`webhook-fetch.ts`), so DNS cannot change the answer after this check.
 */
export function isInternalAddress(host: string): boolean {
  return /^localhost\.?$|\.localhost\.?$/i.test(host) || internalRangeOf(host) !== undefined;
}

export function subscriptionRequestSchema(options: { allowLoopbackHttp: boolean }) {
  return z.strictObject({
    folder: z.string().min(1).max(512).default('inbox'),
    events: z.array(z.enum(MESSAGE_EVENTS)).min(1).max(3),
    webhookUrl: z
      .string()
      .max(2048)
      .check((ctx) => {
        let url: URL;
        try {
          url = new URL(ctx.value);
        } catch {
          ctx.issues.push({ code: 'custom', message: 'must be an absolute URL', input: ctx.value });
          return;
        }
        const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
        const httpOk = url.protocol === 'http:' && loopback && options.allowLoopbackHttp;
        if (url.protocol !== 'https:' && !httpOk)
          ctx.issues.push({
            code: 'custom',
            message: options.allowLoopbackHttp
              ? 'must be https (http only to loopback)'
              : 'must be https',
            input: ctx.value,
          });
        else if (url.username || url.password)
          ctx.issues.push({
            code: 'custom',
            message: 'must not carry credentials',
            input: ctx.value,
          });
        else if (!options.allowLoopbackHttp && isInternalAddress(url.hostname))
          ctx.issues.push({
            code: 'custom',
            message: 'must not point at a private or loopback address',
            input: ctx.value,
          });
      }),
    fields: z.array(eventFieldSchema).min(1).max(20).optional(),
  });
}
export type SubscriptionRequest = z.output<ReturnType<typeof subscriptionRequestSchema>>;
