import Mustache, { type TemplateSpans } from 'mustache';
import { z } from 'zod';

import { type FieldError, ValidationError } from '../core/errors';

/**
 * The one renderer behind preview and the bulk send path, so a preview shows exactly what is sent.
 *
 * Mustache rules, restricted to the logic-less core: `{{name}}` (dotted names allowed), sections
 * `{{#list}}…{{/list}}` and inverted sections `{{^x}}…{{/x}}`, comments. No partials; no lambdas
 * (values come from JSON, and views are built without prototypes so `{{constructor}}` cannot
 * reach a function). A plain `{{name}}` must have a value: a missing one is an error listing every
 * missing field, never an empty hole. Optional text goes inside a section, which may be absent.
 */

export type ContentType = 'text' | 'html';

export interface TemplateParts {
  subject: string;
  body: string;
  contentType: ContentType;
}

export interface RenderInput {
  variables: Record<string, unknown>;
  personalNote?: string | undefined;
}

export interface Rendered {
  subject: string;
  body: string;
  contentType: ContentType;
}

export const PERSONAL_NOTE = 'personalNote';

const MAX_SUBJECT_CHARS = 998;

/** JSON values a recipient may carry: scalars for `{{x}}`, lists and objects for sections. */
export type VariableValue =
  string | number | boolean | null | VariableValue[] | { [key: string]: VariableValue };

export const variableValue: z.ZodType<VariableValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(variableValue),
    z.record(z.string(), variableValue),
  ]),
);

export const variablesSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'names are letters, digits, _ or -'),
  variableValue,
);

/** Parses and checks one template part; syntax errors name the part (`subject`, `body`). */
function parsePart(text: string, path: string, html: boolean): TemplateSpans {
  let tokens: TemplateSpans;
  try {
    tokens = Mustache.parse(text);
  } catch (error) {
    throw new ValidationError({
      path,
      message: `template syntax error: ${(error as Error).message}`,
    });
  }
  const problems: FieldError[] = [];
  const visit = (list: TemplateSpans) => {
    for (const token of list) {
      const [type, value] = token;
      if (type === '>')
        problems.push({ path, message: `partials ({{> ${value}}}) are not supported` });
      if (type === '&' && html) {
        problems.push({
          path,
          message: `unescaped tag for "${value}" is not allowed in an HTML body; values are always HTML-escaped`,
        });
      }
      const children = token[4];
      if (Array.isArray(children)) visit(children);
    }
  };
  visit(tokens);
  if (problems.length > 0) throw new ValidationError(problems);
  return tokens;
}

/** Validates a template's syntax without rendering it (used when a template is stored). */
export function checkTemplate(parts: TemplateParts): void {
  const errors: FieldError[] = [];
  for (const [path, text, html] of [
    ['subject', parts.subject, false],
    ['body', parts.body, parts.contentType === 'html'],
  ] as const) {
    try {
      parsePart(text, path, html);
    } catch (error) {
      if (error instanceof ValidationError) errors.push(...error.errors);
      else throw error;
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
}

/** A deep copy without prototypes, so Mustache's `in` lookups see only the caller's own keys. */
function toView(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toView);
  if (value && typeof value === 'object') {
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, child] of Object.entries(value)) out[key] = toView(child);
    return out;
  }
  return value;
}

function lookup(stack: readonly unknown[], name: string): { found: boolean; value: unknown } {
  if (name === '.') return { found: true, value: stack[stack.length - 1] };
  const [head, ...rest] = name.split('.');
  for (let i = stack.length - 1; i >= 0; i--) {
    const frame = stack[i];
    if (frame && typeof frame === 'object' && head! in frame) {
      let value: unknown = (frame as Record<string, unknown>)[head!];
      for (const key of rest) {
        if (value && typeof value === 'object' && key in value) {
          value = (value as Record<string, unknown>)[key];
        } else {
          return { found: false, value: undefined };
        }
      }
      return { found: true, value };
    }
  }
  return { found: false, value: undefined };
}

function isFalsy(value: unknown): boolean {
  return !value || (Array.isArray(value) && value.length === 0);
}

/**
 * Walks the tokens the way Mustache renders them and collects every `{{name}}` that would render
 * nothing (absent or null) or something meaningless (a list or object).
 */
function findHoles(tokens: TemplateSpans, stack: unknown[], holes: Map<string, string>): void {
  for (const token of tokens) {
    const type: string = token[0];
    const name = token[1];
    if (type === 'name' || type === '&') {
      const { found, value } = lookup(stack, name);
      if (!found || value === null || value === undefined)
        holes.set(name, 'is used by the template but missing');
      else if (typeof value === 'object') {
        holes.set(name, 'is a list or object; use it as a section ({{#name}}…{{/name}})');
      }
      continue;
    }
    if (type !== '#' && type !== '^') continue;
    const children = (token[4] ?? []) as TemplateSpans;
    const { value } = lookup(stack, name);
    if (type === '^') {
      if (isFalsy(value)) findHoles(children, stack, holes);
    } else if (Array.isArray(value)) {
      for (const item of value) findHoles(children, [...stack, item], holes);
    } else if (value && typeof value === 'object') {
      findHoles(children, [...stack, value], holes);
    } else if (typeof value === 'string' || typeof value === 'number') {
      // Mustache pushes a truthy scalar as the context, so `{{.}}` inside means the value itself.
      if (!isFalsy(value)) findHoles(children, [...stack, value], holes);
    } else if (!isFalsy(value)) {
      findHoles(children, stack, holes);
    }
  }
}

const identity = (value: unknown): string => String(value);
const escapeHtml = (value: unknown): string => Mustache.escape(String(value));

/**
 * Renders one recipient's mail. Throws a ValidationError listing every missing field; paths are
 * `variables.<name>` (or `personalNote`) under `pathPrefix`, e.g. `recipients[3].`.
 */
export function renderTemplate(
  parts: TemplateParts,
  input: RenderInput,
  pathPrefix = '',
): Rendered {
  const html = parts.contentType === 'html';
  const subjectTokens = parsePart(parts.subject, 'subject', false);
  const bodyTokens = parsePart(parts.body, 'body', html);
  const view = toView({
    ...input.variables,
    ...(input.personalNote === undefined ? {} : { [PERSONAL_NOTE]: input.personalNote }),
  });
  const holes = new Map<string, string>();
  findHoles(subjectTokens, [view], holes);
  findHoles(bodyTokens, [view], holes);
  if (holes.size > 0) {
    throw new ValidationError(
      [...holes].map(([name, message]) => ({
        path: `${pathPrefix}${name.split('.')[0] === PERSONAL_NOTE ? '' : 'variables.'}${name}`,
        message,
      })),
    );
  }
  // Subjects are a header: no line breaks, and Exchange's 998-character line limit.
  const subject = Mustache.render(parts.subject, view, {}, { escape: identity })
    .replace(/[\r\n\t]+/g, ' ')
    .slice(0, MAX_SUBJECT_CHARS);
  const body = Mustache.render(parts.body, view, {}, { escape: html ? escapeHtml : identity });
  return { subject, body, contentType: parts.contentType };
}
