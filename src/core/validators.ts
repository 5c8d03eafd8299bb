import * as z from 'zod';

/**
 * The one rule for our own identifiers (service, credential, template, job, report ids): they
 * become table keys, vault secret names and URL segments, so nothing else is allowed.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_RULE = 'must match [A-Za-z0-9_-]{1,64}';

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}

export const idSchema = z.string().regex(ID_PATTERN, ID_RULE);

/** RFC 5321 §4.5.3.1: no longer path (254 without the brackets) or local part is deliverable. */
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/**
 * The one e-mail address rule (recipients, senders, mailboxes, report recipients, filters): zod's
 * practical format (dot-atom of letters, digits and `_ ' + -`; a dotted domain) within RFC 5321's
 * lengths. It admits nothing that is special in a URL path or an OData string but `'`, which the
 * OData layer escapes.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  return (
    value.length <= MAX_ADDRESS_LENGTH && at <= MAX_LOCAL_PART_LENGTH && z.regexes.email.test(value)
  );
}

/** A string that must be an e-mail address; `message` says what it is for. */
export function emailAddress(message = 'must be an email address') {
  return z.string().refine(isEmailAddress, message);
}

// A plain character-class loop: a grouped pattern such as `(?:[A-Za-z0-9+/]{4})*` backtracks
// through V8's regexp stack and overflows it on ~14 MB of input (a 500, not a 400).
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64: the alphabet, padding only at the end, whole 4-character groups. */
export function isStrictBase64(value: string): boolean {
  return value.length % 4 === 0 && BASE64_CHARS.test(value);
}
