import Mustache from 'mustache';

import { type FieldError, isErrorOf, ValidationError } from '../core/errors';
import { type CompiledPart, compilePart } from './template-compile';
import { toView } from './template-variables';
import { createWalkState, type RenderBudget, walkPart } from './template-walk';

/**
 * The one renderer behind preview and the bulk send path, so a preview shows exactly what is sent.
 *
 * Mustache syntax, restricted to the logic-less core: `{{name}}` (dotted names allowed), sections
 * `{{#list}}…{{/list}}` and inverted sections `{{^x}}…{{/x}}`, comments. No partials, no lambdas:
 * our own walker reads own data properties of a prototype-free copy of the variables and never
 * calls anything. A plain `{{name}}` must have a value: a missing one is an error listing every
 * missing field, never an empty hole. Optional text goes inside a section, which may be absent.
 * Every render is capped (steps, section depth, output bytes); a cap reached is a 400 naming the
 * template field.
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

export interface CompiledTemplate {
  subject: CompiledPart;
  body: CompiledPart;
  contentType: ContentType;
}

export interface RenderOptions {
  /** Largest output, subject and body together, in UTF-8 bytes (the message size limit). */
  maxBytes: number;
  /** Prefix of variable paths in errors, e.g. `recipients[3].`. */
  pathPrefix?: string;
  /** Where a template field is named when a cap is reached (default: the field itself). */
  limitPath?: (field: string) => string;
  /** Shared by every render of one bulk job's check. */
  budget?: RenderBudget;
}

export type { RenderBudget } from './template-walk';

export const PERSONAL_NOTE = 'personalNote';

const MAX_SUBJECT_CHARS = 998;

/** Parses both parts; every problem of both is reported at once, each naming its part. */
export function compileTemplate(parts: TemplateParts): CompiledTemplate {
  const errors: FieldError[] = [];
  const compile = (text: string, field: string, html: boolean): CompiledPart | undefined => {
    try {
      return compilePart(text, field, html);
    } catch (error) {
      if (!isErrorOf(error, ValidationError)) throw error;
      errors.push(...error.errors);
      return undefined;
    }
  };
  const subject = compile(parts.subject, 'subject', false);
  const body = compile(parts.body, 'body', parts.contentType === 'html');
  if (!subject || !body) throw new ValidationError(errors);
  return { subject, body, contentType: parts.contentType };
}

/** Validates a template without rendering it (used when a template is stored). */
export function checkTemplate(parts: TemplateParts): void {
  compileTemplate(parts);
}

const identity = (value: string): string => value;
const escapeHtml = (value: string): string => Mustache.escape(value);

function walkBoth(
  template: CompiledTemplate,
  input: RenderInput,
  options: RenderOptions,
  collect: boolean,
) {
  const prefix = options.pathPrefix ?? '';
  const view = toView({
    ...input.variables,
    ...(input.personalNote === undefined ? {} : { [PERSONAL_NOTE]: input.personalNote }),
  });
  const state = createWalkState({
    maxBytes: options.maxBytes,
    collect,
    budget: options.budget,
    limitPath: options.limitPath ?? ((field) => field),
    who: prefix ? prefix.replace(/\.$/, '') : 'these variables',
    escape: identity,
  });
  const subject = walkPart(template.subject, view, state);
  if (template.contentType === 'html') state.options.escape = escapeHtml;
  const body = walkPart(template.body, view, state);
  if (state.holes.size > 0) {
    throw new ValidationError(
      [...state.holes].map(([name, message]) => ({
        path: `${prefix}${name.split('.')[0] === PERSONAL_NOTE ? '' : 'variables.'}${name}`,
        message,
      })),
    );
  }
  return { subject, body, bytes: state.bytes };
}

/**
 * Renders one recipient's mail. Throws a ValidationError listing every missing field (paths
 * `variables.<name>` or `personalNote` under `pathPrefix`), or naming the template field whose
 * render reached a cap.
 */
export function renderTemplate(
  template: CompiledTemplate,
  input: RenderInput,
  options: RenderOptions,
): Rendered {
  const { subject, body } = walkBoth(template, input, options, true);
  // Subjects are a header: no line breaks, and Exchange's 998-character line limit.
  return {
    subject: subject.replace(/[\r\n\t]+/g, ' ').slice(0, MAX_SUBJECT_CHARS),
    body,
    contentType: template.contentType,
  };
}

/**
 * The UTF-8 bytes one recipient's mail would have, subject and body, without building it: what a
 * bulk job checks for every recipient before it is accepted. Same errors as `renderTemplate`.
 */
export function measureTemplate(
  template: CompiledTemplate,
  input: RenderInput,
  options: RenderOptions,
): number {
  return walkBoth(template, input, options, false).bytes;
}
