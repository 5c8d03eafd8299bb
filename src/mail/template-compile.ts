import Mustache from 'mustache';

import { type FieldError, ValidationError } from '../core/errors';
import { SIGNATURE_SLOT } from './identity/compose';

/**
 * A template part parsed once into plain nodes our own renderer walks (`template-walk.ts`).
 *
 * Mustache is used for its parser only (delimiters, standalone lines, comments), through a private
 * Writer whose cache is off: Mustache's global cache keeps every distinct template text forever.
 * Nothing of Mustache's renderer runs, so no name lookup walks a prototype and no value is ever
 * called as a lambda.
 */

/** Sections inside sections: enough for lists of lists, not for multiplying a list by itself. */
export const MAX_SECTION_DEPTH = 6;
/** Nodes one render may visit (a list item's nodes count once per item). */
export const MAX_RENDER_STEPS = 100_000;
/** `{{signature}}`: where the send path puts the credential's signature (body only). */
export const SIGNATURE_FIELD = 'signature';
const SIGNATURE_NODE: TemplateNode = {
  kind: 'text',
  text: SIGNATURE_SLOT,
  bytes: Buffer.byteLength(SIGNATURE_SLOT, 'utf8'),
};

/** Names that would reach an object's machinery rather than the caller's data. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

export type TemplateNode =
  | { kind: 'text'; text: string; bytes: number }
  | { kind: 'value'; name: string; path: readonly string[] }
  | {
      kind: 'section';
      name: string;
      path: readonly string[];
      inverted: boolean;
      children: readonly TemplateNode[];
    };

export interface CompiledPart {
  /** The field the part came from (`subject`, `body`), for errors. */
  field: string;
  nodes: readonly TemplateNode[];
}

type Token = [string, string, number, number, Token[]?, number?];

/** `templateCache` is a Writer field the typings omit; undefined turns the cache off. */
const parser = Object.assign(new Mustache.Writer(), { templateCache: undefined });

/** `a.b.c` → ['a','b','c']; `.` (the current item) → []. */
function namePath(name: string): string[] {
  return name === '.' ? [] : name.split('.');
}

/**
 * Parses one part and checks what the renderer will not do: partials, unescaped tags in HTML,
 * reserved names, sections nested deeper than MAX_SECTION_DEPTH, more nodes than one render may visit.
 */
export function compilePart(text: string, field: string, html: boolean): CompiledPart {
  let tokens: Token[];
  try {
    tokens = parser.parse(text) as Token[];
  } catch (error) {
    throw new ValidationError({
      path: field,
      message: `template syntax error: ${(error as Error).message}`,
    });
  }
  const problems: FieldError[] = [];
  let count = 0;
  const convert = (list: readonly Token[], depth: number): TemplateNode[] => {
    const nodes: TemplateNode[] = [];
    for (const [type, value, , , children] of list) {
      count++;
      if (type === 'text') {
        nodes.push({ kind: 'text', text: value, bytes: Buffer.byteLength(value, 'utf8') });
        continue;
      }
      if (type === '!' || type === '=') continue;
      if (type === '>') {
        problems.push({ path: field, message: `partials ({{> ${value}}}) are not supported` });
        continue;
      }
      if ((type === 'name' || type === '&') && value === SIGNATURE_FIELD) {
        if (field === 'body') nodes.push(SIGNATURE_NODE);
        else
          problems.push({ path: field, message: '{{signature}} can only be placed in the body' });
        continue;
      }
      const path = namePath(value);
      const reserved = path.find((part) => RESERVED_NAMES.has(part));
      if (reserved !== undefined) {
        problems.push({ path: field, message: `"${value}": ${reserved} is a reserved name` });
        continue;
      }
      if (type === '&' && html) {
        problems.push({
          path: field,
          message: `unescaped tag for "${value}" is not allowed in an HTML body; values are always HTML-escaped`,
        });
        continue;
      }
      if (type === 'name' || type === '&') {
        nodes.push({ kind: 'value', name: value, path });
        continue;
      }
      // '#' or '^'
      if (depth >= MAX_SECTION_DEPTH) {
        problems.push({
          path: field,
          message: `sections are nested more than ${MAX_SECTION_DEPTH} deep (at "${value}")`,
        });
        continue;
      }
      nodes.push({
        kind: 'section',
        name: value,
        path,
        inverted: type === '^',
        children: convert(children ?? [], depth + 1),
      });
    }
    return nodes;
  };
  const nodes = convert(tokens, 0);
  if (count > MAX_RENDER_STEPS) {
    problems.push({
      path: field,
      message: `has more than ${MAX_RENDER_STEPS} tags and text runs; one render visits at most that many`,
    });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return { field, nodes };
}
