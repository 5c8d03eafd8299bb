import { type CredentialKey } from '../credentials/types';
import { isErrorOf, NotFoundError, UpstreamError, ValidationError } from '../core/errors';
import { buildPath, type GraphResult, type MailboxGraph, segment } from './client';
import { WELL_KNOWN_FOLDER_NAMES } from './folders';
import { GRAPH_ID } from './messages';
import { readPreferHeaders } from './prefer';

/**
 * Turns what a caller names a folder by into a folder id: a Graph folder id, one of Graph's
 * well-known names (`archive`, `deleteditems`, …) or a path of display names from the top of
 * the mailbox (`Archive/2026/Customers`, a `/` inside a name written `\/`, as `GET folders`
 * reports paths). Paths are resolved one level at a time and remembered per credential and
 * mailbox until a folder write through this product (or the TTL) forgets them.
 */

export type FolderReference =
  | { kind: 'wellKnown'; name: string }
  | { kind: 'id'; id: string }
  | { kind: 'path'; segments: string[] };

export interface ResolvedFolder {
  id: string;
  displayName: string;
  /** How the caller named it: a path, a well-known name or the id itself. */
  reference: string;
}

/** Exchange ids are long base64 text; anything shorter that is not a well-known name is a path. */
const MIN_ID_LENGTH = 40;
export const MAX_FOLDER_REFERENCE_LENGTH = 1024;
/** Exchange nests folders up to 300 levels (FACTS §11). */
const MAX_PATH_SEGMENTS = 300;
const MAX_SEGMENT_LENGTH = 255;

/** Classifies a folder reference; a malformed path is a ValidationError at `field`. */
export function parseFolderReference(value: string, field: string): FolderReference {
  const lower = value.toLowerCase();
  if ((WELL_KNOWN_FOLDER_NAMES as readonly string[]).includes(lower)) {
    return { kind: 'wellKnown', name: lower };
  }
  if (value.length >= MIN_ID_LENGTH && GRAPH_ID.test(value)) return { kind: 'id', id: value };
  const segments = value.split(/(?<!\\)\//).map((s) => s.replace(/\\\//g, '/'));
  const bad = (message: string) => new ValidationError({ path: field, message });
  if (value.length > MAX_FOLDER_REFERENCE_LENGTH)
    throw bad(`must be at most ${MAX_FOLDER_REFERENCE_LENGTH} characters`);
  if (segments.length > MAX_PATH_SEGMENTS) throw bad(`has more than ${MAX_PATH_SEGMENTS} levels`);
  if (segments.some((s) => s.trim() === ''))
    throw bad(
      'must be a folder id, a well-known name or a path such as Inbox/Customers (no empty names)',
    );
  if (segments.some((s) => s.length > MAX_SEGMENT_LENGTH))
    throw bad(`has a folder name longer than ${MAX_SEGMENT_LENGTH} characters`);
  return { kind: 'path', segments };
}

interface CacheEntry {
  /** Lower-cased path prefix → folder. */
  byPath: Map<string, { id: string; displayName: string }>;
  expiresAt: number;
}

export interface FolderResolver {
  resolve(
    graph: MailboxGraph,
    scope: CredentialKey,
    reference: FolderReference,
  ): Promise<ResolvedFolder>;
  /** Forgets every path remembered for this credential and mailbox (after a folder write). */
  invalidate(scope: CredentialKey, mailboxAddress: string): void;
}

interface GraphFolderRef {
  id?: unknown;
  displayName?: unknown;
}

interface ChildPage {
  value?: GraphFolderRef[];
  '@odata.nextLink'?: unknown;
}

const CHILD_PAGE = 1000;
/** Pages followed per level: 100,000 sibling folders is far beyond any real mailbox. */
const MAX_PAGES_PER_LEVEL = 100;

export function folderCacheKey(scope: CredentialKey, mailboxAddress: string): string {
  // Per credential and mailbox: one service never learns anything from another's lookups.
  return [scope.serviceId, scope.credentialId, mailboxAddress.toLowerCase()].join('\n');
}

export function createFolderResolver(
  options: { cacheTtlMs?: number; maxCacheEntries?: number; now?: () => number } = {},
): FolderResolver {
  const ttlMs = options.cacheTtlMs ?? 10 * 60 * 1000;
  const maxEntries = options.maxCacheEntries ?? 1000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, CacheEntry>();

  function entryFor(key: string): CacheEntry {
    const existing = cache.get(key);
    if (existing && existing.expiresAt > now()) return existing;
    cache.delete(key);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    const fresh: CacheEntry = { byPath: new Map(), expiresAt: now() + ttlMs };
    cache.set(key, fresh);
    return fresh;
  }

  async function byId(
    graph: MailboxGraph,
    id: string,
  ): Promise<{ id: string; displayName: string }> {
    try {
      const { body } = await graph.client.get<GraphFolderRef>(
        buildPath(`${graph.root}/mailFolders/${segment(id)}`, { $select: 'id,displayName' }),
        { headers: readPreferHeaders() },
      );
      if (typeof body.id !== 'string') {
        throw new UpstreamError('graph_error', 'Microsoft Graph returned a folder without id.');
      }
      return {
        id: body.id,
        displayName: typeof body.displayName === 'string' ? body.displayName : '',
      };
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) throw new NotFoundError(`Folder ${id}`);
      throw error;
    }
  }

  async function child(
    graph: MailboxGraph,
    parentId: string,
    name: string,
  ): Promise<{ id: string; displayName: string } | undefined> {
    let url: string | undefined = buildPath(
      `${graph.root}/mailFolders/${segment(parentId)}/childFolders`,
      { $select: 'id,displayName', $top: CHILD_PAGE, includeHiddenFolders: 'true' },
    );
    const wanted = name.toLowerCase();
    for (let page = 0; url !== undefined && page < MAX_PAGES_PER_LEVEL; page++) {
      const page: GraphResult<ChildPage> = await graph.client.get<ChildPage>(url, {
        headers: readPreferHeaders(),
      });
      const body = page.body;
      // Exchange compares folder names without regard to case.
      const found = (body.value ?? []).find(
        (f) => typeof f.displayName === 'string' && f.displayName.toLowerCase() === wanted,
      );
      if (found && typeof found.id === 'string') {
        return { id: found.id, displayName: found.displayName as string };
      }
      const next: unknown = body['@odata.nextLink'];
      url = typeof next === 'string' ? graph.client.nextLinkPath(next) : undefined;
    }
    return undefined;
  }

  return {
    async resolve(graph, scope, reference) {
      if (reference.kind === 'id') {
        const folder = await byId(graph, reference.id);
        return { ...folder, reference: reference.id };
      }
      if (reference.kind === 'wellKnown') {
        const entry = entryFor(folderCacheKey(scope, graph.mailboxAddress));
        const key = `\u0000${reference.name}`;
        const folder = entry.byPath.get(key) ?? (await byId(graph, reference.name));
        entry.byPath.set(key, folder);
        return { ...folder, reference: reference.name };
      }
      const entry = entryFor(folderCacheKey(scope, graph.mailboxAddress));
      let parentId = 'msgfolderroot';
      let folder: { id: string; displayName: string } | undefined;
      const walked: string[] = [];
      for (const name of reference.segments) {
        walked.push(name.replace(/\//g, '\\/'));
        const prefix = walked.join('/').toLowerCase();
        folder = entry.byPath.get(prefix) ?? (await child(graph, parentId, name));
        if (!folder) {
          const parent =
            walked.length > 1 ? `'${walked.slice(0, -1).join('/')}'` : 'the top of the mailbox';
          throw new NotFoundError(`Folder '${name}' under ${parent}`);
        }
        entry.byPath.set(prefix, folder);
        parentId = folder.id;
      }
      return { ...folder!, reference: walked.join('/') };
    },
    invalidate(scope, mailboxAddress) {
      cache.delete(folderCacheKey(scope, mailboxAddress));
    },
  };
}
