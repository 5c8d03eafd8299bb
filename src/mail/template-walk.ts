import { ValidationError } from '../core/errors';
import { type CompiledPart, MAX_RENDER_STEPS, type TemplateNode } from './template-compile';

/**
 * The renderer: walks compiled nodes over a view of own data properties only, collecting every
 * `{{name}}` that would render nothing (the missing-field check) in the same pass that renders,
 * so both are bounded by the same caps: MAX_RENDER_STEPS node visits and loop iterations, and the
 * output size. A shared budget bounds every render of one bulk job together.
 */

/** What is left for a group of renders (a bulk job's check); decremented as they run. */
export interface RenderBudget {
  steps: number;
  /** UTF-8 bytes of substituted values (text runs are counted from their precomputed size). */
  valueBytes: number;
}

export interface WalkOptions {
  escape: (value: string) => string;
  /** Largest output of every part walked with this state together, in UTF-8 bytes. */
  maxBytes: number;
  /** Build the output (render) or only count its bytes (a bulk job's size check). */
  collect: boolean;
  budget?: RenderBudget | undefined;
  /** The error path for a cap reached while walking `field` (e.g. `template.body`). */
  limitPath: (field: string) => string;
  /** Whose render it is, for the cap message (e.g. `recipients[3]`). */
  who: string;
}

export interface WalkState {
  options: WalkOptions;
  steps: number;
  bytes: number;
  holes: Map<string, string>;
  field: string;
}

export function createWalkState(options: WalkOptions): WalkState {
  return { options, steps: 0, bytes: 0, holes: new Map(), field: '' };
}

type Found = { found: true; value: unknown } | { found: false };
const NOT_FOUND: Found = { found: false };

function own(value: unknown, key: string): Found {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key)
    ? { found: true, value: (value as Record<string, unknown>)[key] }
    : NOT_FOUND;
}

/**
 * The spec's name resolution: the first part is looked up through the context stack, the rest
 * strictly inside what it found. Own properties only, never a prototype.
 */
function lookup(stack: readonly unknown[], path: readonly string[]): Found {
  if (path.length === 0) return { found: true, value: stack[stack.length - 1] };
  for (let i = stack.length - 1; i >= 0; i--) {
    let hit = own(stack[i], path[0]!);
    if (!hit.found) continue;
    for (let k = 1; k < path.length && hit.found; k++) hit = own(hit.value, path[k]!);
    return hit;
  }
  return NOT_FOUND;
}

function isFalsy(value: unknown): boolean {
  return !value || (Array.isArray(value) && value.length === 0);
}

function limit(state: WalkState, message: string, advice: string): ValidationError {
  return new ValidationError({
    path: state.options.limitPath(state.field),
    message: `${message} when rendered for ${state.options.who}; ${advice}`,
  });
}

function step(state: WalkState): void {
  state.steps++;
  if (state.steps > MAX_RENDER_STEPS) {
    throw limit(
      state,
      `needs more than ${MAX_RENDER_STEPS} steps`,
      'sections nested over long lists multiply',
    );
  }
  const budget = state.options.budget;
  if (budget && --budget.steps < 0) {
    throw limit(state, 'exceeds the rendering budget of one bulk send', 'split the recipients');
  }
}

function emit(state: WalkState, out: string[], text: string, bytes: number, value: boolean): void {
  state.bytes += bytes;
  if (state.bytes > state.options.maxBytes) {
    throw limit(
      state,
      `is larger than ${state.options.maxBytes} bytes`,
      'that is the largest message (MAX_MESSAGE_SIZE_MB, less attachments)',
    );
  }
  const budget = state.options.budget;
  if (value && budget && (budget.valueBytes -= bytes) < 0) {
    throw limit(state, 'exceeds the rendering budget of one bulk send', 'split the recipients');
  }
  if (state.options.collect) out.push(text);
}

function walk(
  nodes: readonly TemplateNode[],
  stack: unknown[],
  state: WalkState,
  out: string[],
): void {
  for (const node of nodes) {
    step(state);
    if (node.kind === 'text') {
      emit(state, out, node.text, node.bytes, false);
      continue;
    }
    const hit = lookup(stack, node.path);
    const value = hit.found ? hit.value : undefined;
    if (node.kind === 'value') {
      if (value === null || value === undefined) {
        state.holes.set(node.name, 'is used by the template but missing');
      } else if (
        typeof value === 'string' ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      ) {
        const text = state.options.escape(String(value));
        emit(state, out, text, Buffer.byteLength(text, 'utf8'), true);
      } else {
        state.holes.set(
          node.name,
          'is a list or object; use it as a section ({{#name}}…{{/name}})',
        );
      }
      continue;
    }
    if (node.inverted) {
      if (isFalsy(value)) walk(node.children, stack, state, out);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        // Every item costs a step, so nested loops over a long list meet the cap.
        step(state);
        stack.push(value[i]);
        walk(node.children, stack, state, out);
        stack.pop();
      }
    } else if (!isFalsy(value) && typeof value !== 'boolean') {
      // Mustache pushes a truthy object or scalar as the context (`{{.}}` is the value itself).
      stack.push(value);
      walk(node.children, stack, state, out);
      stack.pop();
    } else if (!isFalsy(value)) {
      walk(node.children, stack, state, out);
    }
  }
}

/** Walks one part over `view`; returns its output (empty when only counting). */
export function walkPart(part: CompiledPart, view: unknown, state: WalkState): string {
  state.field = part.field;
  const out: string[] = [];
  walk(part.nodes, [view], state, out);
  return out.join('');
}
