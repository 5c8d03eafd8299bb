import { exchangeId, structuredId } from './util';

/** Id prefixes: REST ids start `AAMkAD…`, immutable ids `AAkALg…`, like Exchange's. */
const REST_PREFIX = Buffer.from('AAMkADAAAAEARgAA', 'base64');
const CONVERSATION_PREFIX = Buffer.from('AAQkAD', 'base64');
const CONVERSATION_INDEX_PREFIX = Buffer.from('AQHT', 'base64');
const IMMUTABLE_PREFIX = Buffer.from('AAkALgAAAAAAHYQDEapmEc2byACqAC', 'base64');

export interface SandboxUser {
  id: string;
  userPrincipalName: string;
  mail: string;
  displayName: string;
}

export interface UserRecord extends SandboxUser {
  givenName: string | null;
  surname: string | null;
  jobTitle: string | null;
  /** Shared mailboxes are disabled accounts: they have a mailbox but cannot sign in. */
  canSignIn: boolean;
  /** Secondary SMTP addresses (proxyAddresses `smtp:` entries); mail to them reaches this mailbox. */
  aliases?: string[];
}

/** Exchange Online organization settings the sandbox imitates (Set-OrganizationConfig). */
export interface TenantSettings {
  /**
   * SendFromAliasEnabled: whether users may send from their aliases. Microsoft documents `$false`
   * as the default; Graph then refuses a `from` that is one of the user's aliases with 403
   * ErrorSendAsDenied.
   */
  sendFromAliasEnabled: boolean;
}

export interface EmailAddress {
  name?: string;
  address: string;
}
export interface Recipient {
  emailAddress: EmailAddress;
}
export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}
export interface InternetMessageHeader {
  name: string;
  value: string;
}

/** A single-value extended property; `key` is the id normalised for lookups (see extended-properties.ts). */
export interface ExtendedProperty {
  key: string;
  id: string;
  value: string;
}

export interface StoredAttachment {
  id: string;
  kind: 'file' | 'item';
  name: string;
  contentType: string | null;
  isInline: boolean;
  contentId: string | null;
  lastModifiedMs: number;
  /** fileAttachment bytes; for an item attachment the rendered MIME of `item`. */
  bytes: Buffer;
  /** itemAttachment payload as posted (a message or event), kept for `$expand`-free reads. */
  item?: Record<string, unknown>;
}

export interface StoredMessage {
  /** Internal, never exposed: survives moves and keeps sort order stable for equal dates. */
  key: number;
  restId: string;
  immutableId: string;
  folder: Folder;
  createdMs: number;
  lastModifiedMs: number;
  receivedMs: number;
  sentMs: number | null;
  subject: string;
  body: ItemBody;
  importance: 'low' | 'normal' | 'high';
  isRead: boolean;
  isDraft: boolean;
  from: Recipient | null;
  sender: Recipient | null;
  toRecipients: readonly Recipient[];
  ccRecipients: readonly Recipient[];
  bccRecipients: readonly Recipient[];
  replyTo: readonly Recipient[];
  conversationId: string;
  conversationIndex: string;
  internetMessageId: string;
  internetMessageHeaders: readonly InternetMessageHeader[];
  categories: readonly string[];
  flag: Readonly<Record<string, unknown>>;
  inferenceClassification: 'focused' | 'other';
  isDeliveryReceiptRequested: boolean;
  isReadReceiptRequested: boolean;
  /** Copy-on-write: defaults share one frozen empty array (seeding 100k+ messages is GC-bound). */
  attachments: readonly StoredAttachment[];
  singleValueExtendedProperties: readonly ExtendedProperty[];
  /** Mailbox change sequence of the last change (delta watermark). */
  seq: number;
  /** Sequence at which the message arrived in its current folder (delta changeType=created). */
  arrivedSeq: number;
  changeKey: string;
  moves: number;
}

export interface Tombstone {
  restId: string;
  immutableId: string;
  seq: number;
}

export interface Folder {
  id: string;
  displayName: string;
  parentId: string;
  wellKnownName: string | null;
  isHidden: boolean;
  children: Folder[];
  /** Sorted newest first by (receivedMs, key): the default listing order, kept sorted on insert. */
  messages: StoredMessage[];
  tombstones: Tombstone[];
}

export interface Mailbox {
  user: UserRecord;
  /** The non-IPM root: parent of msgfolderroot and of folders Graph does not list (searchfolders, recoverable items). */
  root: Folder;
  msgFolderRoot: Folder;
  foldersById: Map<string, Folder>;
  wellKnown: Map<string, Folder>;
  /** REST ids and immutable ids both resolve. */
  byId: Map<string, StoredMessage>;
  /** Mailbox-wide list, newest first (for /messages without a folder). */
  all: StoredMessage[];
  seq: number;
  nextKey: number;
  /** For internetMessageId values: `<{stem}{key}@{domain}>`. */
  messageIdStem: string;
  domain: string;
}

export interface Grant {
  fullAccess: boolean;
  sendAs: boolean;
  sendOnBehalf: boolean;
}

const NONE: readonly never[] = Object.freeze([]);
const EMPTY_BODY: ItemBody = Object.freeze({ contentType: 'html' as const, content: '' });
export const NOT_FLAGGED: Readonly<Record<string, unknown>> = Object.freeze({
  flagStatus: 'notFlagged',
});

const newestFirst = (a: StoredMessage, b: StoredMessage): number =>
  b.receivedMs - a.receivedMs || b.key - a.key;

/** Index of the first element that sorts after `m` (binary search; lists stay sorted without re-sorting 50k items). */
function insertionIndex(list: StoredMessage[], m: StoredMessage): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (newestFirst(list[mid]!, m) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function removeFrom(list: StoredMessage[], m: StoredMessage): void {
  const at = insertionIndex(list, m) - 1;
  if (list[at] === m) list.splice(at, 1);
  else {
    const i = list.indexOf(m);
    if (i >= 0) list.splice(i, 1);
  }
}

export class MailStore {
  readonly users: UserRecord[] = [];
  private readonly mailboxes = new Map<string, Mailbox>();
  /** key `${userId}->${targetUserId}` */
  private readonly grants = new Map<string, Grant>();
  /** Called after every change stamp (change notifications scan from here). */
  onChange: ((mailbox: Mailbox) => void) | null = null;

  addUser(user: UserRecord): Mailbox {
    this.users.push(user);
    const folderId = (path: string): string => exchangeId('AQMkAD', `${user.id}/folder/${path}`);
    const make = (
      path: string,
      displayName: string,
      parent: Folder | null,
      wellKnownName: string | null,
      isHidden = false,
    ): Folder => {
      const folder: Folder = {
        id: folderId(path),
        displayName,
        parentId: parent?.id ?? exchangeId('AQMkAD', `${user.id}/root-parent`),
        wellKnownName,
        isHidden,
        children: [],
        messages: [],
        tombstones: [],
      };
      parent?.children.push(folder);
      return folder;
    };
    const root = make('', 'Root', null, null, true);
    const msgFolderRoot = make('ipm', 'Top of Information Store', root, 'msgfolderroot');
    const mailbox: Mailbox = {
      user,
      root,
      msgFolderRoot,
      foldersById: new Map(),
      wellKnown: new Map(),
      byId: new Map(),
      all: [],
      seq: 1,
      nextKey: 1,
      messageIdStem: `${user.id.slice(0, 8).toUpperCase()}.SBX.`,
      domain: user.mail.split('@')[1] ?? 'sandbox.test',
    };
    const ipm: Array<[string, string, boolean?]> = [
      ['archive', 'Archive'],
      ['clutter', 'Clutter', true],
      ['conversationhistory', 'Conversation History'],
      ['deleteditems', 'Deleted Items'],
      ['drafts', 'Drafts'],
      ['inbox', 'Inbox'],
      ['junkemail', 'Junk Email'],
      ['outbox', 'Outbox'],
      ['scheduled', 'Scheduled'],
      ['sentitems', 'Sent Items'],
      ['syncissues', 'Sync Issues'],
    ];
    for (const [wk, name, hidden] of ipm)
      make(`ipm/${wk}`, name, msgFolderRoot, wk, hidden ?? false);
    const syncIssues = msgFolderRoot.children.find((f) => f.wellKnownName === 'syncissues')!;
    make('ipm/syncissues/conflicts', 'Conflicts', syncIssues, 'conflicts');
    make('ipm/syncissues/localfailures', 'Local Failures', syncIssues, 'localfailures');
    make('ipm/syncissues/serverfailures', 'Server Failures', syncIssues, 'serverfailures');
    make('searchfolders', 'Finder', root, 'searchfolders', true);
    make('recoverable', 'Deletions', root, 'recoverableitemsdeletions', true);
    const index = (f: Folder): void => {
      mailbox.foldersById.set(f.id, f);
      if (f.wellKnownName) mailbox.wellKnown.set(f.wellKnownName, f);
      f.children.forEach(index);
    };
    index(root);
    this.mailboxes.set(user.id, mailbox);
    return mailbox;
  }

  /** Creates a user folder under `parent` (seed data and control API). */
  addFolder(mailbox: Mailbox, parent: Folder, displayName: string, isHidden = false): Folder {
    // Seeded folders keep stable ids; a name used before (renamed, deleted) gets a fresh one.
    let material = `${mailbox.user.id}/folder/${parent.id}/${displayName}`;
    for (let n = 1; mailbox.foldersById.has(exchangeId('AQMkAD', material)); n++) {
      material = `${mailbox.user.id}/folder/${parent.id}/${displayName}#${n}`;
    }
    const folder: Folder = {
      id: exchangeId('AQMkAD', material),
      displayName,
      parentId: parent.id,
      wellKnownName: null,
      isHidden,
      children: [],
      messages: [],
      tombstones: [],
    };
    parent.children.push(folder);
    mailbox.foldersById.set(folder.id, folder);
    return folder;
  }

  /** Finds a user by object id or UPN/mail (case-insensitive), like `/users/{id | userPrincipalName}`. */
  findUser(idOrUpn: string): UserRecord | undefined {
    const needle = idOrUpn.toLowerCase();
    return this.users.find(
      (u) =>
        u.id === needle ||
        u.userPrincipalName.toLowerCase() === needle ||
        u.mail.toLowerCase() === needle,
    );
  }

  /** The user one of whose aliases (secondary SMTP addresses) is `address`. */
  findAliasOwner(address: string): UserRecord | undefined {
    const needle = address.toLowerCase();
    return this.users.find((u) => u.aliases?.some((a) => a.toLowerCase() === needle));
  }

  mailbox(userId: string): Mailbox {
    const mailbox = this.mailboxes.get(userId);
    if (!mailbox) throw new Error(`no mailbox for ${userId}`);
    return mailbox;
  }

  /** Resolves a folder id or a well-known name (case-insensitive, as Graph accepts `Inbox`). */
  folder(mailbox: Mailbox, idOrName: string): Folder | undefined {
    return mailbox.foldersById.get(idOrName) ?? mailbox.wellKnown.get(idOrName.toLowerCase());
  }

  /** Resolves a path of display names such as `Inbox/Projects/2026` (tests and control API). */
  folderByPath(mailbox: Mailbox, path: string): Folder | undefined {
    const direct = this.folder(mailbox, path);
    if (direct) return direct;
    let current: Folder | undefined = mailbox.msgFolderRoot;
    for (const part of path.split(/(?<!\\)\//).map((p) => p.replace(/\\\//g, '/'))) {
      current = current?.children.find((c) => c.displayName.toLowerCase() === part.toLowerCase());
    }
    return current;
  }

  message(mailbox: Mailbox, id: string): StoredMessage | undefined {
    return mailbox.byId.get(id);
  }

  grant(userId: string, targetId: string): Grant | undefined {
    return this.grants.get(`${userId}->${targetId}`);
  }

  setGrant(userId: string, targetId: string, grant: Grant): void {
    this.grants.set(`${userId}->${targetId}`, grant);
  }

  newKey(mailbox: Mailbox): number {
    return mailbox.nextKey++;
  }

  ids(mailbox: Mailbox, key: number, moves: number): { restId: string; immutableId: string } {
    return {
      restId: structuredId(REST_PREFIX, mailbox.user.id, key, moves),
      immutableId: structuredId(IMMUTABLE_PREFIX, mailbox.user.id, key),
    };
  }

  /** Stamps a new change: new sequence, changeKey and lastModified. */
  touch(mailbox: Mailbox, m: StoredMessage, now = Date.now()): void {
    m.seq = ++mailbox.seq;
    m.lastModifiedMs = now;
    m.changeKey = `CQAAABYAAA${m.key.toString(36).padStart(6, '0')}${m.seq.toString(36).padStart(8, '0')}`;
    this.onChange?.(mailbox);
  }

  insert(mailbox: Mailbox, m: StoredMessage): void {
    m.folder.messages.splice(insertionIndex(m.folder.messages, m), 0, m);
    mailbox.all.splice(insertionIndex(mailbox.all, m), 0, m);
    mailbox.byId.set(m.restId, m);
    mailbox.byId.set(m.immutableId, m);
  }

  /** Moves a message: the REST id changes (a new item in the target folder), the immutable id stays. */
  move(mailbox: Mailbox, m: StoredMessage, target: Folder): void {
    if (m.folder === target) return;
    this.tombstone(mailbox, m);
    removeFrom(m.folder.messages, m);
    mailbox.byId.delete(m.restId);
    m.moves += 1;
    m.restId = this.ids(mailbox, m.key, m.moves).restId;
    m.folder = target;
    mailbox.byId.set(m.restId, m);
    target.messages.splice(insertionIndex(target.messages, m), 0, m);
    this.touch(mailbox, m);
    m.arrivedSeq = m.seq;
  }

  remove(mailbox: Mailbox, m: StoredMessage): void {
    this.tombstone(mailbox, m);
    removeFrom(m.folder.messages, m);
    removeFrom(mailbox.all, m);
    mailbox.byId.delete(m.restId);
    mailbox.byId.delete(m.immutableId);
  }

  /** A copy in `target`: a new item (new ids) with the same content, in the same conversation. */
  copy(mailbox: Mailbox, m: StoredMessage, target: Folder): StoredMessage {
    // newMessage reads only content fields: ids, folder and sequence numbers are the copy's own.
    return newMessage(this, mailbox, target, { ...m, lastModifiedMs: Date.now() });
  }

  /** Renames a folder; its id stays (folder ids never change). */
  renameFolder(folder: Folder, displayName: string): void {
    folder.displayName = displayName;
  }

  /** Moves a folder with its contents under another parent. */
  moveFolder(mailbox: Mailbox, folder: Folder, parent: Folder): void {
    const old = mailbox.foldersById.get(folder.parentId);
    if (old) old.children = old.children.filter((c) => c !== folder);
    folder.parentId = parent.id;
    parent.children.push(folder);
  }

  /** Removes a folder and its subfolders; their messages are soft-deleted. */
  deleteFolder(mailbox: Mailbox, folder: Folder): void {
    for (const child of [...folder.children]) this.deleteFolder(mailbox, child);
    for (const m of [...folder.messages]) this.softDelete(mailbox, m);
    const parent = mailbox.foldersById.get(folder.parentId);
    if (parent) parent.children = parent.children.filter((c) => c !== folder);
    mailbox.foldersById.delete(folder.id);
  }

  /** Whether `folder` is `ancestor` or lies below it. */
  isWithin(mailbox: Mailbox, folder: Folder, ancestor: Folder): boolean {
    for (let f: Folder | undefined = folder; f; f = mailbox.foldersById.get(f.parentId)) {
      if (f === ancestor) return true;
      if (f === mailbox.root) return false;
    }
    return false;
  }

  /** Soft delete: into Recoverable Items, out of the mailbox-wide listing. */
  softDelete(mailbox: Mailbox, m: StoredMessage): void {
    removeFrom(mailbox.all, m);
    this.move(mailbox, m, mailbox.wellKnown.get('recoverableitemsdeletions')!);
  }

  private tombstone(mailbox: Mailbox, m: StoredMessage): void {
    m.folder.tombstones.push({ restId: m.restId, immutableId: m.immutableId, seq: ++mailbox.seq });
    this.onChange?.(mailbox);
  }

  rebuildIndexes(mailbox: Mailbox): void {
    for (const f of mailbox.foldersById.values()) f.messages.sort(newestFirst);
    mailbox.all.sort(newestFirst);
  }

  /** Re-sorts after a receivedDateTime change (sending a draft). */
  reposition(mailbox: Mailbox, m: StoredMessage, receivedMs: number): void {
    removeFrom(m.folder.messages, m);
    removeFrom(mailbox.all, m);
    m.receivedMs = receivedMs;
    m.folder.messages.splice(insertionIndex(m.folder.messages, m), 0, m);
    mailbox.all.splice(insertionIndex(mailbox.all, m), 0, m);
  }
}

/**
 * The conversation index of a reply: the parent's index plus one 5-byte child block, as Exchange
 * extends PidTagConversationIndex for every message that answers another.
 */
export function childConversationIndex(parent: string, block: number): string {
  const child = Buffer.alloc(5);
  child.writeUInt32BE(block >>> 0, 0);
  return Buffer.concat([Buffer.from(parent, 'base64'), child])
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

export function folderPath(mailbox: Mailbox, folder: Folder): string {
  const parts: string[] = [];
  let current: Folder | undefined = folder;
  while (current && current !== mailbox.msgFolderRoot && current !== mailbox.root) {
    parts.unshift(current.displayName.replace(/\//g, '\\/'));
    current = mailbox.foldersById.get(current.parentId);
  }
  return parts.join('/');
}

export function newMessage(
  store: MailStore,
  mailbox: Mailbox,
  folder: Folder,
  fields: Partial<StoredMessage> & { receivedMs: number },
  index = true,
): StoredMessage {
  const key = store.newKey(mailbox);
  const { restId, immutableId } = store.ids(mailbox, key, 0);
  const f = fields;
  // Every property spelled out (no spread): one object shape for all messages keeps 100k+ fast.
  const m: StoredMessage = {
    key,
    restId,
    immutableId,
    folder,
    createdMs: f.createdMs ?? f.receivedMs,
    lastModifiedMs: f.lastModifiedMs ?? f.receivedMs,
    receivedMs: f.receivedMs,
    sentMs: f.sentMs === undefined ? f.receivedMs : f.sentMs,
    subject: f.subject ?? '',
    body: f.body ?? EMPTY_BODY,
    importance: f.importance ?? 'normal',
    isRead: f.isRead ?? false,
    isDraft: f.isDraft ?? false,
    from: f.from ?? null,
    sender: f.sender ?? null,
    toRecipients: f.toRecipients ?? NONE,
    ccRecipients: f.ccRecipients ?? NONE,
    bccRecipients: f.bccRecipients ?? NONE,
    replyTo: f.replyTo ?? NONE,
    conversationId: f.conversationId ?? structuredId(CONVERSATION_PREFIX, mailbox.user.id, key),
    conversationIndex:
      f.conversationIndex ?? structuredId(CONVERSATION_INDEX_PREFIX, mailbox.user.id, key),
    internetMessageId:
      f.internetMessageId ?? `<${mailbox.messageIdStem}${key.toString(36)}@${mailbox.domain}>`,
    internetMessageHeaders: f.internetMessageHeaders ?? NONE,
    categories: f.categories ?? NONE,
    flag: f.flag ?? NOT_FLAGGED,
    inferenceClassification: f.inferenceClassification ?? 'focused',
    isDeliveryReceiptRequested: f.isDeliveryReceiptRequested ?? false,
    isReadReceiptRequested: f.isReadReceiptRequested ?? false,
    attachments: f.attachments ?? NONE,
    singleValueExtendedProperties: f.singleValueExtendedProperties ?? NONE,
    seq: 0,
    arrivedSeq: 0,
    changeKey: '',
    moves: 0,
  };
  store.touch(mailbox, m, m.lastModifiedMs);
  m.arrivedSeq = m.seq;
  if (index) store.insert(mailbox, m);
  else {
    // Bulk seeding: append now, sort once in rebuildIndexes (50k sorted inserts would be quadratic).
    folder.messages.push(m);
    mailbox.all.push(m);
    mailbox.byId.set(m.restId, m);
    mailbox.byId.set(m.immutableId, m);
  }
  return m;
}

/** A stored attachment with a fresh id under its message. */
export function newAttachment(
  input: Omit<StoredAttachment, 'id' | 'lastModifiedMs'>,
  ownerId: string,
  index: number,
): StoredAttachment {
  return {
    ...input,
    id: exchangeId('AAMkADAt', `${ownerId}/att/${index}/${Date.now()}/${Math.random()}`),
    lastModifiedMs: Date.now(),
  };
}
