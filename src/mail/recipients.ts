import * as z from 'zod';

import { emailAddress, isEmailAddress } from '../core/validators';
import { type Recipient } from './send-types';

/**
 * Addresses as callers give them (send, replies, bulk jobs, template previews): a string or
 * `{address, name}`, names one line long, so every route checks them alike.
 */

/**
 * A display name as it goes into From, To or Reply-To: one line (a line break would start another
 * header in the MIME Exchange builds), no control characters, at most 255 characters.
 */
export const displayName = z
  .string()
  .max(255, 'must be at most 255 characters')
  .refine((name) => ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: 'must be one line without control characters',
  });

/** A recipient as a string or `{address, name}`. */
const recipient = z.unknown().transform((value, ctx): Recipient => {
  if (typeof value === 'string') {
    if (!isEmailAddress(value))
      ctx.addIssue({ code: 'custom', message: 'is not a valid email address' });
    return { address: value };
  }
  const parsed = z
    .strictObject({
      address: emailAddress('is not a valid email address'),
      name: displayName.optional(),
    })
    .safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      ctx.addIssue(
        issue.code === 'unrecognized_keys'
          ? { code: 'custom', message: `has unknown fields: ${issue.keys.join(', ')}` }
          : { code: 'custom', message: issue.message, path: issue.path },
      );
    }
    return { address: '' };
  }
  return parsed.data.name === undefined
    ? { address: parsed.data.address }
    : { address: parsed.data.address, name: parsed.data.name };
});

/** A single recipient or a list of them. */
export const recipients = z.preprocess(
  (value) => (value === undefined || Array.isArray(value) ? value : [value]),
  z.array(recipient).max(1000, 'has too many entries').default([]),
);

/** Reply-To addresses: Outlook offers a handful; more is a mistake, not a use. */
export const MAX_REPLY_TO = 10;
export const replyToList = z.preprocess(
  (value) => (value === undefined || Array.isArray(value) ? value : [value]),
  z.array(recipient).max(MAX_REPLY_TO, `at most ${MAX_REPLY_TO} addresses`).default([]),
);

/** `from`: an address (or `{address, name}`) the credential may send as. */
export const fromField = recipient;

/**
 * A template's `from`: a display name, an address, or both. The name alone is the common case
 * (the message goes out from whichever address the job or the credential uses, under this name).
 */
export const templateFrom = z.preprocess(
  (value) => (typeof value === 'string' ? { address: value } : value),
  z
    .strictObject({
      address: emailAddress('is not a valid email address').optional(),
      name: displayName.optional(),
    })
    .refine((from) => from.address !== undefined || from.name !== undefined, {
      message: 'give an address, a name or both',
    }),
);

export type SenderName = { address?: string | undefined; name?: string | undefined };

/** Who a message goes out as and where replies go, at one level (a row, a job, a template). */
export interface SenderFields {
  from?: SenderName | undefined;
  replyTo?: Recipient[] | undefined;
}

/**
 * The sender fields of a message from its levels, most specific first (a bulk row, its job, the
 * template): `from.address`, `from.name` and `replyTo` each come from the first level that gives
 * them (an empty Reply-To list gives none).
 */
export function mergeSender(levels: ReadonlyArray<SenderFields | undefined>): {
  from: SenderName | undefined;
  replyTo: Recipient[];
} {
  const address = levels.find((l) => l?.from?.address !== undefined)?.from?.address;
  const name = levels.find((l) => l?.from?.name !== undefined)?.from?.name;
  const replyTo = levels.find((l) => (l?.replyTo?.length ?? 0) > 0)?.replyTo ?? [];
  const from =
    address === undefined && name === undefined
      ? undefined
      : { ...(address === undefined ? {} : { address }), ...(name === undefined ? {} : { name }) };
  return { from, replyTo };
}
