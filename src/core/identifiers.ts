/**
 * The identifier and address rules, without zod: config reads them while the host loads the app,
 * where evaluating zod would cost more than the rest of the start (see `src/core/validators.ts`
 * for the zod schemas built on them).
 */

/**
 * The one rule for our own identifiers (service, credential, template, job, report ids): they
 * become table keys, vault secret names and URL segments, so nothing else is allowed.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ID_RULE = 'must match [A-Za-z0-9_-]{1,64}';

export function isId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** RFC 5321 §4.5.3.1: no longer path (254 without the brackets) or local part is deliverable. */
const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_PART_LENGTH = 64;

/**
 * zod's practical e-mail format (`z.regexes.email`, zod 4 `src/v4/core/regexes.ts`, MIT), copied
 * so that checking an address does not load zod; a test keeps the two equal.
 */
export const EMAIL_PATTERN =
  // eslint-disable-next-line no-useless-escape -- zod's source, character for character
  /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;

/**
 * The one e-mail address rule (recipients, senders, mailboxes, report recipients, filters): zod's
 * practical format (dot-atom of letters, digits and `_ ' + -`; a dotted domain) within RFC 5321's
 * lengths. It admits nothing that is special in a URL path or an OData string but `'`, which the
 * OData layer escapes.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.lastIndexOf('@');
  return (
    value.length <= MAX_ADDRESS_LENGTH && at <= MAX_LOCAL_PART_LENGTH && EMAIL_PATTERN.test(value)
  );
}
