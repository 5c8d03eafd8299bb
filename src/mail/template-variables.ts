import * as z from 'zod';

import { RESERVED_NAMES, SIGNATURE_FIELD } from './template-compile';

/**
 * A recipient's merge variables: JSON values, checked without recursing past MAX_VARIABLE_DEPTH
 * (a deeply nested body must not overflow the stack) and with no key that names an object's
 * machinery. `toView` copies them into objects and arrays without prototypes for the renderer.
 */

/** JSON values a recipient may carry: scalars for `{{x}}`, lists and objects for sections. */
export type VariableValue =
  string | number | boolean | null | VariableValue[] | { [key: string]: VariableValue };

/** Lists of objects holding lists, and then some: deeper than any section can reach usefully. */
export const MAX_VARIABLE_DEPTH = 8;

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

type Issue = { path: (string | number)[]; message: string };

/** Collects what is wrong with one value; recursion stops at MAX_VARIABLE_DEPTH. */
function checkValue(value: unknown, path: (string | number)[], issues: Issue[]): void {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return;
  if (typeof value !== 'object') {
    issues.push({ path, message: 'must be a JSON value' });
    return;
  }
  if (path.length > MAX_VARIABLE_DEPTH) {
    issues.push({ path, message: `is nested more than ${MAX_VARIABLE_DEPTH} levels deep` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkValue(item, [...path, index], issues));
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (RESERVED_NAMES.has(key))
      issues.push({ path: [...path, key], message: 'is a reserved name' });
    else checkValue(item, [...path, key], issues);
  }
}

export const variablesSchema = z
  .record(
    z
      .string()
      .regex(NAME, 'names are letters, digits, _ or -')
      .refine((name) => !RESERVED_NAMES.has(name), 'is a reserved name')
      .refine(
        (name) => name !== SIGNATURE_FIELD,
        "is reserved: {{signature}} places the credential's signature",
      ),
    z.unknown(),
  )
  .superRefine((variables, ctx) => {
    const issues: Issue[] = [];
    for (const [name, value] of Object.entries(variables)) checkValue(value, [name], issues);
    for (const issue of issues) ctx.addIssue({ code: 'custom', ...issue });
  })
  .transform((variables) => variables as Record<string, VariableValue>);

/** A deep copy of own data only, in objects and arrays without prototypes. */
export function toView(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = value.map(toView);
    Object.setPrototypeOf(out, null);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, child] of Object.entries(value)) {
      if (!RESERVED_NAMES.has(key)) out[key] = toView(child);
    }
    return out;
  }
  return value;
}
