/**
 * Single-value extended properties on messages (Graph's singleValueLegacyExtendedProperty): the
 * three documented id formats, create/PATCH input, `$expand=singleValueExtendedProperties($filter=id
 * eq '…')` and the `singleValueExtendedProperties/Any(ep: ep/id eq '…' and …)` message filter.
 */
import { badRequest, GraphError } from '../errors';
import type { CollectionDef, Node } from '../odata/filter';
import { parseFilter } from '../odata/filter';
import type { ExtendedProperty, StoredMessage } from '../store';
import { isRecord } from '../util';

/** Single-value types (the `…Array` types belong to multiValueExtendedProperties). */
const TYPES = [
  'Binary',
  'Boolean',
  'CLSID',
  'Currency',
  'Double',
  'Integer',
  'Long',
  'Object',
  'Short',
  'String',
  'SystemTime',
] as const;
type PropertyType = (typeof TYPES)[number];

const GUID = '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}';
const NUMBER = '(0x[0-9A-Fa-f]+|\\d+)';
const NAMED = new RegExp(`^(\\w+) \\{(${GUID})\\} Name (\\S.*)$`);
const NUMBERED = new RegExp(`^(\\w+) \\{(${GUID})\\} Id ${NUMBER}$`);
const PROPTAG = new RegExp(`^(\\w+) ${NUMBER}$`);

const invalidProperty = (): GraphError =>
  badRequest(
    'The extended property attribute combination is invalid.',
    'ErrorInvalidExtendedProperty',
  );

const invalidNodes = (): GraphError =>
  new GraphError(
    400,
    'ErrorInvalidUrlQueryFilter',
    'The query filter contains one or more invalid nodes.',
  );

/**
 * Parses an id in one of the documented formats: `{type} {guid} Name {name}`, `{type} {guid} Id
 * {id}` or `{type} {proptag}`. The key compares GUIDs and numbers by value and names exactly (the
 * docs: the string name is case-sensitive). A proptag may be a full tag (`0x4001001E`) or an id.
 */
export function propertyKey(id: string): { key: string; type: PropertyType } {
  const named = NAMED.exec(id);
  const numbered = NUMBERED.exec(id);
  const proptag = PROPTAG.exec(id);
  const type = TYPES.find((t) => t === (named ?? numbered ?? proptag)?.[1]);
  if (!type) throw invalidProperty();
  if (named) return { type, key: `${type} ${named[2]!.toLowerCase()} Name ${named[3]!}` };
  if (numbered)
    return { type, key: `${type} ${numbered[2]!.toLowerCase()} Id ${Number(numbered[3])}` };
  const tag = Number(proptag![2]);
  const propId = tag > 0xffff ? tag >>> 16 : tag;
  // Proptags name MAPI's own properties (0x0001–0x7fff); custom ones must be named.
  if (propId < 0x0001 || propId > 0x7fff) throw invalidProperty();
  return { type, key: `${type} ${propId}` };
}

const VALUE_CHECKS: Partial<Record<PropertyType, (v: string) => boolean>> = {
  Boolean: (v) => /^(true|false)$/i.test(v),
  Short: (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 0x7fff,
  Integer: (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 0x7fffffff,
  Long: (v) => /^-?\d+$/.test(v),
  Double: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  Currency: (v) => v.trim() !== '' && Number.isFinite(Number(v)),
  SystemTime: (v) => !Number.isNaN(Date.parse(v)),
  CLSID: (v) => new RegExp(`^${GUID}$`).test(v),
  Binary: (v) => /^[A-Za-z0-9+/]*={0,2}$/.test(v),
};

/** Validates `singleValueExtendedProperties` of a message payload. */
export function extendedPropertiesInput(value: unknown): ExtendedProperty[] {
  if (!Array.isArray(value))
    throw badRequest(
      "Invalid value for property 'singleValueExtendedProperties'.",
      'RequestBodyRead',
    );
  return value.map((p) => {
    if (!isRecord(p) || typeof p.id !== 'string' || typeof p.value !== 'string') {
      throw badRequest(
        'An extended property must have a string id and a string value.',
        'RequestBodyRead',
      );
    }
    const { key, type } = propertyKey(p.id);
    if (VALUE_CHECKS[type]?.(p.value) === false) {
      throw badRequest(
        `The value '${p.value}' is not valid for an extended property of type '${type}'.`,
        'ErrorInvalidExtendedPropertyValue',
      );
    }
    return { key, id: p.id, value: p.value };
  });
}

/** Creating a property that exists (same key) replaces its value, as a PATCH does in Graph. */
export function mergeExtendedProperties(
  existing: readonly ExtendedProperty[],
  incoming: readonly ExtendedProperty[],
): ExtendedProperty[] {
  const byKey = new Map(existing.map((p) => [p.key, p]));
  for (const p of incoming)
    byKey.set(p.key, byKey.has(p.key) ? { ...byKey.get(p.key)!, value: p.value } : p);
  return [...byKey.values()];
}

const isPath = (n: Node, variable: string, name: string): boolean =>
  n.k === 'var' && n.name === variable && n.path.toLowerCase() === name;
const stringLiteral = (n: Node): string | null =>
  n.k === 'lit' && n.type === 'string' ? (n.v as string) : null;

/** `ep/id eq '…'`: the property key it names, or null for any other node. */
function idEquality(n: Node, variable: string): string | null {
  if (n.k !== 'cmp' || n.op !== 'eq' || !isPath(n.l, variable, 'id')) return null;
  const id = stringLiteral(n.r);
  return id === null ? null : propertyKey(id).key;
}

/** The documented clauses on `ep/value` of a string property: eq, ne, contains, startswith (case-insensitive). */
function valueClause(n: Node, variable: string): (value: string) => boolean {
  if (n.k === 'cmp' && (n.op === 'eq' || n.op === 'ne') && isPath(n.l, variable, 'value')) {
    const wanted = stringLiteral(n.r)?.toLowerCase();
    if (wanted === undefined) throw invalidNodes();
    return n.op === 'eq' ? (v) => v.toLowerCase() === wanted : (v) => v.toLowerCase() !== wanted;
  }
  if (n.k === 'call' && /^(contains|startswith)$/i.test(n.name) && n.args.length === 2) {
    const [target, literal] = n.args as [Node, Node];
    const wanted = stringLiteral(literal)?.toLowerCase();
    if (!isPath(target, variable, 'value') || wanted === undefined) throw invalidNodes();
    return n.name.toLowerCase() === 'contains'
      ? (v) => v.toLowerCase().includes(wanted)
      : (v) => v.toLowerCase().startsWith(wanted);
  }
  throw invalidNodes();
}

/** `$filter` on messages: `singleValueExtendedProperties/Any(ep: ep/id eq '…' [and <value clause>])`. */
export const EXTENDED_PROPERTIES_COLLECTION: CollectionDef<StoredMessage> = {
  element: {},
  get: (m) => m.singleValueExtendedProperties,
  lambda: (body, variable) => {
    const alone = idEquality(body, variable);
    const key = alone ?? (body.k === 'and' ? idEquality(body.l, variable) : null);
    if (key === null) throw invalidNodes();
    const matches = alone === null && body.k === 'and' ? valueClause(body.r, variable) : () => true;
    return (e) => {
      const p = e as ExtendedProperty;
      return p.key === key && matches(p.value);
    };
  },
};

/** `singleValueExtendedProperties($filter=id eq '…' [or id eq '…'])` → the keys to expand. */
export function parseExtendedExpand(options: string | undefined): Set<string> {
  const filter = /^\s*\$filter\s*=\s*([\s\S]+)$/i.exec(options ?? '')?.[1];
  if (filter === undefined) {
    // "You cannot use the REST API to get all the extended properties of a specific instance in one call."
    throw badRequest(
      "Expanding 'singleValueExtendedProperties' requires a $filter on its id.",
      'ErrorInvalidUrlQuery',
    );
  }
  const keys = new Set<string>();
  const walk = (n: Node): void => {
    if (n.k === 'or') {
      walk(n.l);
      walk(n.r);
      return;
    }
    const id =
      n.k === 'cmp' && n.op === 'eq' && n.l.k === 'prop' && n.l.path.toLowerCase() === 'id'
        ? stringLiteral(n.r)
        : null;
    if (id === null) throw invalidNodes();
    keys.add(propertyKey(id).key);
  };
  walk(parseFilter(filter));
  return keys;
}

/** The expanded collection: the matching properties with the ids they were created with. */
export function expandedProperties(
  m: StoredMessage,
  keys: Set<string>,
): Array<{ id: string; value: string }> {
  return m.singleValueExtendedProperties
    .filter((p) => keys.has(p.key))
    .map((p) => ({ id: p.id, value: p.value }));
}
