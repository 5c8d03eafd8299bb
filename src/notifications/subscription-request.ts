import { isIP } from 'node:net';

import * as z from 'zod';

import { eventFieldSchema, MESSAGE_EVENTS } from './events';

/** Private, loopback and link-local address literals a webhook must not point at in Azure. */
export function isInternalAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 0) return host === 'localhost';
  return /^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|0\.|::1$|f[cd]|fe80:)/i.test(
    bare,
  );
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
