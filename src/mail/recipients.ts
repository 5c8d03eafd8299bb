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
