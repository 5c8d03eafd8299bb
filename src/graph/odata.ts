/**
 * A small typed OData `$filter` builder for the message properties we filter on. Values only ever
 * enter the expression through the literal encoders below, so caller input cannot change the
 * structure of the query (a `'` is doubled inside its string literal, as OData requires).
 */

/** The message properties our filters use, as Graph spells their paths. */
export type MessageFilterProperty =
  | 'receivedDateTime'
  | 'isRead'
  | 'hasAttachments'
  | 'subject'
  | 'from/emailAddress/address'
  | 'conversationId';

export type ODataLiteral =
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'dateTime'; value: Date };

export type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type FilterClause =
  | { op: Comparison; property: MessageFilterProperty; value: ODataLiteral }
  | { op: 'contains'; property: MessageFilterProperty; value: string };

/** An OData string literal: single-quoted, embedded quotes doubled. */
export function stringLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A DateTimeOffset literal as Graph expects it: unquoted UTC, whole seconds written without a
 * fraction (`2026-01-31T00:00:00Z`).
 */
export function dateTimeLiteral(value: Date): string {
  if (Number.isNaN(value.getTime())) throw new RangeError('Invalid date in OData literal.');
  return value.toISOString().replace(/\.000Z$/, 'Z');
}

function literal(value: ODataLiteral): string {
  switch (value.kind) {
    case 'string':
      return stringLiteral(value.value);
    case 'boolean':
      return value.value ? 'true' : 'false';
    case 'dateTime':
      return dateTimeLiteral(value.value);
  }
}

export function clauseText(clause: FilterClause): string {
  return clause.op === 'contains'
    ? `contains(${clause.property}, ${stringLiteral(clause.value)})`
    : `${clause.property} ${clause.op} ${literal(clause.value)}`;
}

/** Clauses joined with `and`, in the given order (order matters to Graph, see `$orderby`). */
export function andFilter(clauses: readonly FilterClause[]): string | undefined {
  return clauses.length === 0 ? undefined : clauses.map(clauseText).join(' and ');
}

export const eq = (property: MessageFilterProperty, value: ODataLiteral): FilterClause => ({
  op: 'eq',
  property,
  value,
});
export const str = (value: string): ODataLiteral => ({ kind: 'string', value });
export const bool = (value: boolean): ODataLiteral => ({ kind: 'boolean', value });
export const dateTime = (value: Date): ODataLiteral => ({ kind: 'dateTime', value });

/**
 * A `$search` value holding the caller's text as one KQL phrase. The phrase sits inside Graph's
 * double-quoted `$search` string, so its own quotes are backslash-escaped; a KQL phrase cannot
 * contain `"` at all, so quotes and backslashes in the text become spaces rather than ending the
 * phrase early and letting the rest be read as KQL operators. Undefined when nothing is left.
 */
export function searchPhrase(text: string): string | undefined {
  const phrase = text.replace(/["\\]/g, ' ').replace(/\s+/g, ' ').trim();
  return phrase === '' ? undefined : `"\\"${phrase}\\""`;
}
