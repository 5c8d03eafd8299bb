import * as z from 'zod';

import { type FieldError } from './errors';

import { ID_PATTERN, ID_RULE, isEmailAddress } from './identifiers';

export { EMAIL_PATTERN, ID_PATTERN, ID_RULE, isEmailAddress, isId } from './identifiers';

export const idSchema = z.string().regex(ID_PATTERN, ID_RULE);

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

/** zod issues → our field errors, with paths like `recipients[3].to`. */
export function toFieldErrors(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldError[] {
  return issues
    .map((issue) => {
      let path = prefix;
      for (const key of issue.path) {
        path += typeof key === 'number' ? `[${key}]` : path ? `.${String(key)}` : String(key);
      }
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          path: path ? `${path}.${key}` : key,
          message: 'is not a known field',
        }));
      }
      return [{ path: path || prefix || '(body)', message: issue.message }];
    })
    .flat();
}
