/**
 * OData `$filter` for the Outlook subset Graph accepts on messages and folders: a tokenizer, a
 * recursive-descent parser (precedence: or < and < not < comparison) and a compiler to predicates.
 * Errors are reported as Graph does: unknown property/function and type mismatches → 400.
 */
import { badRequest, GraphError } from '../errors';

export type ValueType = 'string' | 'boolean' | 'datetime' | 'enum' | 'number';

export interface PropertyDef<T> {
  type: ValueType;
  get: (item: T) => string | boolean | number | null;
}
export interface CollectionDef<T> {
  /** Lambda variable paths (e.g. `emailAddress/address`) to element values. */
  element: Record<string, PropertyDef<unknown>>;
  get: (item: T) => readonly unknown[];
  /**
   * A collection whose lambdas only take a fixed shape (extended properties) compiles the body
   * itself into an element predicate, throwing Graph's 400 for any other shape.
   */
  lambda?: (body: Node, variable: string) => (element: unknown) => boolean;
}
export interface FilterSchema<T> {
  typeName: string;
  properties: Record<string, PropertyDef<T>>;
  collections: Record<string, CollectionDef<T>>;
}

type Token =
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: number; pos: number }
  | { t: 'date'; v: number; raw: string; pos: number }
  | { t: 'id'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ',' | '/' | ':'; pos: number };

export type Node =
  | { k: 'or' | 'and'; l: Node; r: Node }
  | { k: 'not'; e: Node }
  | { k: 'cmp'; op: string; l: Node; r: Node }
  | { k: 'lit'; type: ValueType | 'null'; v: string | number | boolean | null }
  | { k: 'prop'; path: string }
  | { k: 'var'; name: string; path: string }
  | { k: 'call'; name: string; args: Node[] }
  | { k: 'any' | 'all'; path: string; variable: string; body: Node | null };

const DATE_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?/;
const COMPARISON = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const syntaxError = (text: string, pos: number): GraphError =>
  badRequest(`Invalid filter clause: Syntax error at position ${pos} in '${text}'.`);

const isLambda = (word: string): boolean => /^(any|all)$/i.test(word);

export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ('(),/:'.includes(c)) {
      out.push({ t: 'punct', v: c as '(' | ')' | ',' | '/' | ':', pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      // OData string literal: a quote inside is written as two quotes.
      let v = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length)
          throw badRequest(
            `Invalid filter clause: There is an unterminated string literal at position ${i} in '${text}'.`,
          );
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            v += "'";
            j += 2;
            continue;
          }
          break;
        }
        v += text[j];
        j++;
      }
      out.push({ t: 'str', v, pos: i });
      i = j + 1;
      continue;
    }
    const rest = text.slice(i);
    const date = DATE_RE.exec(rest);
    if (date && (date[1] !== undefined || !/^\d{4}-\d{2}-\d{2}\d/.test(rest))) {
      const ms = Date.parse(date[0]);
      if (Number.isNaN(ms)) throw syntaxError(text, i);
      out.push({ t: 'date', v: ms, raw: date[0], pos: i });
      i += date[0].length;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(rest);
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_$@][A-Za-z0-9_.$@]*/.exec(rest);
    if (id) {
      out.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    throw syntaxError(text, i);
  }
  return out;
}

export function parseFilter(text: string): Node {
  const tokens = tokenize(text);
  let p = 0;
  const peek = (): Token | undefined => tokens[p];
  const isWord = (w: string): boolean => {
    const t = peek();
    return t?.t === 'id' && t.v.toLowerCase() === w;
  };
  const expect = (v: string): void => {
    const t = peek();
    if (t?.t !== 'punct' || t.v !== v) throw syntaxError(text, t?.pos ?? text.length);
    p++;
  };
  const path = (first: string): string => {
    let out = first;
    while (peek()?.t === 'punct' && (peek() as { v: string }).v === '/') {
      const next = tokens[p + 1];
      if (next?.t !== 'id') throw syntaxError(text, next?.pos ?? text.length);
      // Graph's own examples spell the lambda operators `Any` as well as `any`.
      if (isLambda(next.v)) break;
      out += `/${next.v}`;
      p += 2;
    }
    return out;
  };
  const lambdaVars: string[] = [];

  const primary = (): Node => {
    const t = peek();
    if (!t) throw syntaxError(text, text.length);
    p++;
    if (t.t === 'punct') {
      if (t.v !== '(') throw syntaxError(text, t.pos);
      const e = orExpr();
      expect(')');
      return e;
    }
    if (t.t === 'str') return { k: 'lit', type: 'string', v: t.v };
    if (t.t === 'num') return { k: 'lit', type: 'number', v: t.v };
    if (t.t === 'date') return { k: 'lit', type: 'datetime', v: t.v };
    const word = t.v;
    if (word === 'true' || word === 'false')
      return { k: 'lit', type: 'boolean', v: word === 'true' };
    if (word === 'null') return { k: 'lit', type: 'null', v: null };
    if (peek()?.t === 'punct' && (peek() as { v: string }).v === '(') {
      p++;
      const args: Node[] = [];
      if (!(peek()?.t === 'punct' && (peek() as { v: string }).v === ')')) {
        for (;;) {
          args.push(orExpr());
          if (peek()?.t === 'punct' && (peek() as { v: string }).v === ',') {
            p++;
            continue;
          }
          break;
        }
      }
      expect(')');
      return { k: 'call', name: word, args };
    }
    const full = path(word);
    const head = full.split('/')[0]!;
    if (lambdaVars.includes(head)) {
      return { k: 'var', name: head, path: full.split('/').slice(1).join('/') };
    }
    if (peek()?.t === 'punct' && (peek() as { v: string }).v === '/') {
      // collection/any(x: ...) or collection/all(x: ...)
      p++;
      const fn = (peek() as Token & { t: 'id' }).v.toLowerCase() as 'any' | 'all';
      p++;
      expect('(');
      if (peek()?.t === 'punct' && (peek() as { v: string }).v === ')') {
        p++;
        return { k: fn, path: full, variable: '', body: null };
      }
      const v = peek();
      if (v?.t !== 'id') throw syntaxError(text, v?.pos ?? text.length);
      p++;
      expect(':');
      lambdaVars.push(v.v);
      const body = orExpr();
      lambdaVars.pop();
      expect(')');
      return { k: fn, path: full, variable: v.v, body };
    }
    return { k: 'prop', path: full };
  };
  const comparison = (): Node => {
    const l = primary();
    const t = peek();
    if (t?.t === 'id' && COMPARISON.has(t.v.toLowerCase())) {
      p++;
      return { k: 'cmp', op: t.v.toLowerCase(), l, r: primary() };
    }
    if (t?.t === 'id' && ['has', 'in', 'add', 'sub', 'mul', 'div', 'mod'].includes(t.v)) {
      throw new GraphError(
        400,
        'ErrorInvalidUrlQueryFilter',
        'The query filter contains one or more invalid nodes.',
      );
    }
    return l;
  };
  const notExpr = (): Node => {
    if (isWord('not')) {
      p++;
      return { k: 'not', e: notExpr() };
    }
    return comparison();
  };
  const andExpr = (): Node => {
    let l = notExpr();
    while (isWord('and')) {
      p++;
      l = { k: 'and', l, r: notExpr() };
    }
    return l;
  };
  function orExpr(): Node {
    let l = andExpr();
    while (isWord('or')) {
      p++;
      l = { k: 'or', l, r: andExpr() };
    }
    return l;
  }
  const root = orExpr();
  if (p < tokens.length) throw syntaxError(text, tokens[p]!.pos);
  return root;
}

/** Property paths in order of first appearance (for Graph's InefficientFilter rule). */
export function filterProperties(node: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node): void => {
    switch (n.k) {
      case 'or':
      case 'and':
        walk(n.l);
        walk(n.r);
        break;
      case 'not':
        walk(n.e);
        break;
      case 'cmp':
        walk(n.l);
        walk(n.r);
        break;
      case 'prop':
      case 'any':
      case 'all':
        if (!out.includes(n.path)) out.push(n.path);
        break;
      case 'call':
        n.args.forEach(walk);
        break;
      default:
        break;
    }
  };
  walk(node);
  return out;
}

type Value = string | number | boolean | null | unknown[];
type Evaluator = (item: unknown, scope: Map<string, unknown>) => Value;
interface Compiled {
  type: ValueType | 'null' | 'collection';
  ev: Evaluator;
}

const lower = (v: Value): Value => (typeof v === 'string' ? v.toLowerCase() : v);

function compare(op: string, a: Value, b: Value): boolean {
  // Exchange compares strings case-insensitively.
  const x = lower(a);
  const y = lower(b);
  if (op === 'eq') return x === y;
  if (op === 'ne') return x !== y;
  if (x === null || y === null) return false;
  if (op === 'gt') return (x as number) > (y as number);
  if (op === 'ge') return (x as number) >= (y as number);
  if (op === 'lt') return (x as number) < (y as number);
  return (x as number) <= (y as number);
}

const EDM: Record<string, string> = {
  string: 'Edm.String',
  boolean: 'Edm.Boolean',
  datetime: 'Edm.DateTimeOffset',
  number: 'Edm.Int32',
  enum: 'Edm.String',
};

export function compileFilter<T>(
  text: string,
  schema: FilterSchema<T>,
): { predicate: (item: T) => boolean; properties: string[] } {
  const ast = parseFilter(text);
  const noProperty = (name: string, type = schema.typeName): GraphError =>
    badRequest(`Could not find a property named '${name}' on type '${type}'.`);

  const compileNode = (
    n: Node,
    vars: Map<string, Record<string, PropertyDef<unknown>>>,
  ): Compiled => {
    switch (n.k) {
      case 'lit': {
        const v = n.v;
        return { type: n.type, ev: () => v };
      }
      case 'prop': {
        const def = schema.properties[n.path];
        if (!def) {
          if (schema.collections[n.path])
            throw new GraphError(
              400,
              'ErrorInvalidUrlQueryFilter',
              'The query filter contains one or more invalid nodes.',
            );
          // Graph names the first path segment it cannot resolve.
          const segments = n.path.split('/');
          const known = Object.keys(schema.properties);
          const bad = segments.findIndex((_s, i) => {
            const prefix = segments.slice(0, i + 1).join('/');
            return !known.some((k) => k === prefix || k.startsWith(`${prefix}/`));
          });
          throw noProperty(segments[bad] ?? n.path);
        }
        return { type: def.type, ev: (item) => def.get(item as T) };
      }
      case 'var': {
        const element = vars.get(n.name);
        const def = element?.[n.path];
        if (!def) throw noProperty(n.path || n.name, 'microsoft.graph.recipient');
        return { type: def.type, ev: (_item, scope) => def.get(scope.get(n.name)) };
      }
      case 'any':
      case 'all': {
        const coll = schema.collections[n.path];
        if (!coll) throw noProperty(n.path);
        if (coll.lambda) {
          if (n.k === 'all' || !n.body)
            throw new GraphError(
              400,
              'ErrorInvalidUrlQueryFilter',
              'The query filter contains one or more invalid nodes.',
            );
          const matches = coll.lambda(n.body, n.variable);
          return { type: 'boolean', ev: (item) => coll.get(item as T).some(matches) };
        }
        if (!n.body) {
          return { type: 'boolean', ev: (item) => coll.get(item as T).length > 0 };
        }
        const inner = new Map(vars);
        inner.set(n.variable, coll.element);
        const body = compileNode(n.body, inner);
        if (body.type !== 'boolean')
          throw badRequest('The lambda expression body must be a boolean expression.');
        const all = n.k === 'all';
        return {
          type: 'boolean',
          ev: (item, scope) => {
            const elems = coll.get(item as T);
            const check = (e: unknown): boolean => {
              const s = new Map(scope);
              s.set(n.variable, e);
              return body.ev(item, s) === true;
            };
            return all ? elems.every(check) : elems.some(check);
          },
        };
      }
      case 'call': {
        const name = n.name.toLowerCase();
        if (name !== 'contains' && name !== 'startswith') {
          if (
            [
              'endswith',
              'tolower',
              'toupper',
              'length',
              'indexof',
              'substring',
              'trim',
              'concat',
              'year',
              'month',
              'day',
            ].includes(name)
          ) {
            throw new GraphError(
              400,
              'ErrorInvalidUrlQueryFilter',
              'The query filter contains one or more invalid nodes.',
            );
          }
          throw badRequest(
            `An unknown function with name '${n.name}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.`,
          );
        }
        if (n.args.length !== 2)
          throw badRequest(
            `No function signature for the function with name '${n.name}' matches the specified arguments.`,
          );
        const [a, b] = n.args.map((x) => compileNode(x, vars)) as [Compiled, Compiled];
        if (a.type !== 'string' && a.type !== 'enum')
          throw badRequest(
            `No function signature for the function with name '${n.name}' matches the specified arguments. The function signatures considered are: ${n.name}(Edm.String Nullable=true, Edm.String Nullable=true).`,
          );
        if (b.type !== 'string')
          throw badRequest(
            `No function signature for the function with name '${n.name}' matches the specified arguments. The function signatures considered are: ${n.name}(Edm.String Nullable=true, Edm.String Nullable=true).`,
          );
        return {
          type: 'boolean',
          ev: (item, scope) => {
            const x = a.ev(item, scope);
            const y = b.ev(item, scope);
            if (typeof x !== 'string' || typeof y !== 'string') return false;
            return name === 'contains'
              ? x.toLowerCase().includes(y.toLowerCase())
              : x.toLowerCase().startsWith(y.toLowerCase());
          },
        };
      }
      case 'cmp': {
        const l = compileNode(n.l, vars);
        const r = compileNode(n.r, vars);
        const compatible =
          l.type === r.type ||
          l.type === 'null' ||
          r.type === 'null' ||
          (l.type === 'enum' && r.type === 'string') ||
          (l.type === 'string' && r.type === 'enum');
        if (!compatible || l.type === 'collection') {
          const opName = {
            eq: 'Equal',
            ne: 'NotEqual',
            gt: 'GreaterThan',
            ge: 'GreaterThanOrEqual',
            lt: 'LessThan',
            le: 'LessThanOrEqual',
          }[n.op];
          throw badRequest(
            `A binary operator with incompatible types was detected. Found operand types '${EDM[l.type] ?? l.type}' and '${EDM[r.type] ?? r.type}' for operator kind '${opName}'.`,
          );
        }
        if (n.l.k === 'lit' && n.r.k === 'lit')
          throw new GraphError(
            400,
            'ErrorInvalidUrlQueryFilter',
            'The query filter contains one or more invalid nodes.',
          );
        return {
          type: 'boolean',
          ev: (item, scope) => compare(n.op, l.ev(item, scope), r.ev(item, scope)),
        };
      }
      case 'not': {
        const e = compileNode(n.e, vars);
        if (e.type !== 'boolean')
          throw badRequest("The operand for a unary operator 'Not' is not of type 'Edm.Boolean'.");
        return { type: 'boolean', ev: (item, scope) => e.ev(item, scope) !== true };
      }
      case 'and':
      case 'or': {
        const l = compileNode(n.l, vars);
        const r = compileNode(n.r, vars);
        if (l.type !== 'boolean' || r.type !== 'boolean') {
          throw badRequest(
            `The operand for a binary operator '${n.k === 'and' ? 'And' : 'Or'}' is not of type 'Edm.Boolean'.`,
          );
        }
        return n.k === 'and'
          ? {
              type: 'boolean',
              ev: (item, scope) => l.ev(item, scope) === true && r.ev(item, scope) === true,
            }
          : {
              type: 'boolean',
              ev: (item, scope) => l.ev(item, scope) === true || r.ev(item, scope) === true,
            };
      }
    }
  };
  const compiled = compileNode(ast, new Map());
  if (compiled.type !== 'boolean')
    throw badRequest('The $filter expression must evaluate to a single boolean value.');
  const empty = new Map<string, unknown>();
  return {
    predicate: (item: T) => compiled.ev(item, empty) === true,
    properties: filterProperties(ast),
  };
}
