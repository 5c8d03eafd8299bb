/**
 * `$search` on messages: a KQL subset (free text over from/subject/body, `from:`, `to:`, `cc:`,
 * `subject:`, `body:`, `participants:`, `hasAttachments:`, `importance:`, `received`/`sent` with
 * `:`/`>`/`>=`/`<`/`<=`, quoted phrases, AND/OR/NOT). Results come sorted by sent date, newest first.
 */
import { badRequest } from './errors';
import type { Recipient, StoredMessage } from './store';
import { htmlToText } from './views';

type Pred = (m: StoredMessage) => boolean;

const text = (m: StoredMessage): string =>
  (m.body.contentType === 'html' ? htmlToText(m.body.content) : m.body.content).toLowerCase();
const people = (rs: ReadonlyArray<Recipient | null>): string =>
  rs
    .filter((r): r is Recipient => r !== null)
    .map((r) => `${r.emailAddress.name ?? ''} ${r.emailAddress.address}`)
    .join(' ')
    .toLowerCase();

function dateBound(value: string): [number, number] {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw badRequest(`Invalid date value '${value}' in the search query.`, 'ErrorInvalidUrlQuery');
  // A bare date covers the whole day.
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? [ms, ms + 86_400_000] : [ms, ms + 1000];
}

function property(name: string, op: string, value: string): Pred {
  const v = value.toLowerCase();
  switch (name.toLowerCase()) {
    case 'from':
      return (m) => people([m.from, m.sender]).includes(v);
    case 'to':
      return (m) => people(m.toRecipients).includes(v);
    case 'cc':
      return (m) => people(m.ccRecipients).includes(v);
    case 'participants':
      return (m) =>
        people([m.from, ...m.toRecipients, ...m.ccRecipients, ...m.bccRecipients]).includes(v);
    case 'subject':
      return (m) => m.subject.toLowerCase().includes(v);
    case 'body':
      return (m) => text(m).includes(v);
    case 'hasattachments':
    case 'hasattachment':
      return (m) => m.attachments.some((a) => !a.isInline) === (v === 'true' || v === 'yes');
    case 'importance':
      return (m) => m.importance === v;
    case 'attachment':
      return (m) => m.attachments.some((a) => a.name.toLowerCase().includes(v));
    case 'received':
    case 'sent': {
      const [from, to] = dateBound(value);
      const get =
        name.toLowerCase() === 'sent'
          ? (m: StoredMessage) => m.sentMs ?? 0
          : (m: StoredMessage) => m.receivedMs;
      if (op === ':' || op === '=') return (m) => get(m) >= from && get(m) < to;
      if (op === '>') return (m) => get(m) >= to;
      if (op === '>=') return (m) => get(m) >= from;
      if (op === '<') return (m) => get(m) < from;
      return (m) => get(m) < to;
    }
    default:
      // Unknown property restrictions are treated as free text, as KQL does.
      return freeText(`${name}${op}${value}`);
  }
}

const freeText =
  (term: string): Pred =>
  (m) => {
    const t = term.toLowerCase();
    return (
      m.subject.toLowerCase().includes(t) ||
      people([m.from, m.sender]).includes(t) ||
      text(m).includes(t)
    );
  };

export function compileSearch(raw: string): Pred {
  let q = raw.trim();
  if (q.startsWith('"') && q.endsWith('"') && q.length >= 2) q = q.slice(1, -1);
  q = q.replace(/\\"/g, '"');
  const tokens = q.match(/"[^"]*"|\(|\)|[^\s()"]+(?:"[^"]*")?/g) ?? [];
  if (tokens.length === 0) throw badRequest('The search query is empty.', 'ErrorInvalidUrlQuery');
  let p = 0;
  const atom = (): Pred => {
    const t = tokens[p++];
    if (t === undefined)
      throw badRequest(`Syntax error in the search query '${raw}'.`, 'ErrorInvalidUrlQuery');
    if (t === '(') {
      const e = or();
      if (tokens[p++] !== ')')
        throw badRequest(`Syntax error in the search query '${raw}'.`, 'ErrorInvalidUrlQuery');
      return e;
    }
    if (t.toUpperCase() === 'NOT') {
      const e = atom();
      return (m) => !e(m);
    }
    const prop = /^([A-Za-z]+)(>=|<=|:|>|<|=)(.+)$/.exec(t);
    if (prop) return property(prop[1]!, prop[2]!, prop[3]!.replace(/^"|"$/g, ''));
    return freeText(t.replace(/^"|"$/g, ''));
  };
  const and = (): Pred => {
    let l = atom();
    while (p < tokens.length && tokens[p] !== ')' && tokens[p]!.toUpperCase() !== 'OR') {
      if (tokens[p]!.toUpperCase() === 'AND') p++;
      const r = atom();
      const left = l;
      l = (m) => left(m) && r(m);
    }
    return l;
  };
  function or(): Pred {
    let l = and();
    while (tokens[p]?.toUpperCase() === 'OR') {
      p++;
      const r = and();
      const left = l;
      l = (m) => left(m) || r(m);
    }
    return l;
  }
  const pred = or();
  if (p < tokens.length)
    throw badRequest(`Syntax error in the search query '${raw}'.`, 'ErrorInvalidUrlQuery');
  return pred;
}
