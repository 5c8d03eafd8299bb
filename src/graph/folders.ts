import { isErrorOf, NotFoundError, UpstreamError } from '../core/errors';
import { type CredentialKey } from '../credentials/types';
import { type BatchRequest, type BatchResponse, runBatch } from './batch';
import { buildPath, type GraphFactory, segment } from './client';
import { toGraphError } from './errors';
import { type ReadOptions } from './messages';
import { readPreferHeaders } from './prefer';

/** One folder as the API returns it. */
export interface FolderView {
  id: string;
  displayName: string;
  /** Display names from the top of the mailbox, `/` separated; a `/` in a name is written `\/`. */
  path: string;
  parentFolderId: string;
  wellKnownName: string | null;
  unreadItemCount: number;
  totalItemCount: number;
  childFolderCount: number;
  /** Present (true) only where a recursive listing stopped at {@link MAX_FOLDER_DEPTH} levels. */
  childFoldersOmitted?: true;
}

export interface ListFoldersOptions extends ReadOptions {
  /** Folder id or well-known name whose children are listed; the top of the mailbox by default. */
  parentId?: string | undefined;
  recursive: boolean;
  includeHidden: boolean;
}

export interface FolderReader {
  list(key: CredentialKey, options: ListFoldersOptions): Promise<FolderView[]>;
}

/** Graph's well-known folder names (https://learn.microsoft.com/graph/api/resources/mailfolder). */
export const WELL_KNOWN_FOLDER_NAMES = [
  'archive',
  'clutter',
  'conflicts',
  'conversationhistory',
  'deleteditems',
  'drafts',
  'inbox',
  'junkemail',
  'localfailures',
  'msgfolderroot',
  'outbox',
  'recoverableitemsdeletions',
  'scheduled',
  'searchfolders',
  'sentitems',
  'serverfailures',
  'syncissues',
] as const;

/** A folder as Graph answers it (listings, create, update, move). */
export interface GraphFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  childFolderCount: number;
  unreadItemCount: number;
  totalItemCount: number;
}

interface FolderPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

const FOLDER_SELECT =
  'id,displayName,parentFolderId,childFolderCount,unreadItemCount,totalItemCount';
/** No maximum is documented for folder pages; big pages keep a wide level to few requests. */
const FOLDER_PAGE_SIZE = 1000;
/**
 * Exchange nests folders up to 300 levels (Microsoft's answer in OfficeDocs-O365ServiceDescriptions #92),
 * so a listing walks that deep; the bound only stops a malformed parent chain, and a folder whose
 * children lie below it says so instead of losing them silently.
 */
export const MAX_FOLDER_DEPTH = 300;
const TOP = '';

export function folderOf(value: unknown): GraphFolder {
  const f = value as Partial<Record<keyof GraphFolder, unknown>>;
  if (typeof f.id !== 'string' || typeof f.displayName !== 'string') {
    throw new UpstreamError('graph_error', 'Microsoft Graph returned a folder without id or name.');
  }
  const count = (n: unknown) => (typeof n === 'number' ? n : 0);
  return {
    id: f.id,
    displayName: f.displayName,
    parentFolderId: typeof f.parentFolderId === 'string' ? f.parentFolderId : '',
    childFolderCount: count(f.childFolderCount),
    unreadItemCount: count(f.unreadItemCount),
    totalItemCount: count(f.totalItemCount),
  };
}

export function escapePathSegment(displayName: string): string {
  return displayName.replace(/\//g, '\\/');
}

function failure(response: BatchResponse) {
  return toGraphError(
    response.status,
    new Headers(response.headers),
    JSON.stringify(response.body),
  );
}

/** One pending listing: a page of `parent`'s children, which sit `depth` levels below the top. */
interface Pending {
  parent: string;
  url: string;
  depth: number;
}

/**
 * Lists folders with as few round trips as Graph allows: every level's child listings (and
 * their next pages) go out together in JSON batches, and only folders that have children are
 * expanded. The ids behind the well-known names are resolved in the first batch and cached.
 */
export function createFolderReader(options: {
  graph: GraphFactory<CredentialKey>;
  /** Folders per page (default 1000). */
  pageSize?: number;
  cacheTtlMs?: number;
  maxCacheEntries?: number;
  now?: () => number;
}): FolderReader {
  const ttlMs = options.cacheTtlMs ?? 10 * 60 * 1000;
  const maxEntries = options.maxCacheEntries ?? 1000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { byId: Map<string, string>; expiresAt: number }>();

  function cached(key: string): Map<string, string> | undefined {
    const entry = cache.get(key);
    if (entry && entry.expiresAt > now()) return entry.byId;
    cache.delete(key);
    return undefined;
  }

  function remember(key: string, byId: Map<string, string>): void {
    cache.delete(key);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { byId, expiresAt: now() + ttlMs });
  }

  return {
    async list(key, listOptions) {
      const { client, root, mailboxAddress } = await options.graph.forCredential(key, listOptions);
      const { abortSignal, log } = listOptions;
      // Per credential and mailbox: one service never learns anything from another's lookups.
      const cacheKey = [key.serviceId, key.credentialId, mailboxAddress.toLowerCase()].join('\n');
      const headers = readPreferHeaders();
      const query = {
        $select: FOLDER_SELECT,
        $top: options.pageSize ?? FOLDER_PAGE_SIZE,
        includeHiddenFolders: listOptions.includeHidden ? 'true' : undefined,
      };
      const childrenUrl = (id: string) =>
        buildPath(`${root}/mailFolders/${segment(id)}/childFolders`, query);
      const folderUrl = (id: string) =>
        buildPath(`${root}/mailFolders/${segment(id)}`, {
          $select: 'id,displayName,parentFolderId',
        });

      /** Sends the requests: one alone goes out directly, more share JSON batches. */
      async function fetchAll(requests: BatchRequest[]): Promise<Map<string, BatchResponse>> {
        if (requests.length !== 1) return runBatch(client, requests, { abortSignal, log });
        const only = requests[0]!;
        try {
          const result = await client.get<unknown>(only.url, { headers });
          return new Map([[only.id, { id: only.id, status: 200, headers: {}, body: result.body }]]);
        } catch (error) {
          if (isErrorOf(error, NotFoundError)) {
            return new Map([[only.id, { id: only.id, status: 404, headers: {}, body: null }]]);
          }
          throw error;
        }
      }

      let wellKnown = cached(cacheKey);
      const parentId = listOptions.parentId;
      let parent: GraphFolder | undefined;
      const children = new Map<string, GraphFolder[]>();
      const seen = new Set<string>();
      let pending: Pending[] = [
        {
          parent: TOP,
          url: parentId ? childrenUrl(parentId) : buildPath(`${root}/mailFolders`, query),
          depth: 1,
        },
      ];
      const omitted = new Set<string>();
      for (let round = 0; pending.length > 0; round++) {
        const requests: BatchRequest[] = pending.map((p, i) => ({
          id: `l${i}`,
          method: 'GET',
          url: p.url,
          headers,
        }));
        if (round === 0 && !wellKnown) {
          for (const name of WELL_KNOWN_FOLDER_NAMES) {
            requests.push({
              id: `w:${name}`,
              method: 'GET',
              url: buildPath(`${root}/mailFolders/${name}`, { $select: 'id' }),
              headers,
            });
          }
        }
        if (round === 0 && parentId) {
          requests.push({ id: 'parent', method: 'GET', url: folderUrl(parentId), headers });
        }
        const results = await fetchAll(requests);
        if (round === 0 && !wellKnown) {
          wellKnown = new Map();
          for (const name of WELL_KNOWN_FOLDER_NAMES) {
            const response = results.get(`w:${name}`);
            const id = (response?.body as { id?: unknown } | undefined)?.id;
            // A name the mailbox lacks (no archive, no clutter) answers 404 and is simply absent.
            if (response?.status === 200 && typeof id === 'string') wellKnown.set(id, name);
            else if (response && response.status !== 404) {
              log.warn('well-known folder lookup failed', { name, status: response.status });
            }
          }
          remember(cacheKey, wellKnown);
        }
        if (round === 0 && parentId) {
          const response = results.get('parent')!;
          if (response.status === 404) throw new NotFoundError(`Folder ${parentId}`);
          if (response.status !== 200) throw failure(response);
          parent = folderOf(response.body);
        }
        const next: Pending[] = [];
        for (const [i, p] of pending.entries()) {
          const response = results.get(`l${i}`)!;
          if (response.status === 404) {
            if (p.parent === TOP) throw new NotFoundError(`Folder ${parentId ?? 'root'}`);
            continue; // deleted while we walked the tree
          }
          if (response.status !== 200) throw failure(response);
          const page = response.body as FolderPage;
          if (!Array.isArray(page.value)) {
            throw new UpstreamError(
              'graph_error',
              'Microsoft Graph returned a folder page without value.',
            );
          }
          const list = children.get(p.parent) ?? [];
          children.set(p.parent, list);
          for (const item of page.value) {
            const folder = folderOf(item);
            if (seen.has(folder.id)) continue;
            seen.add(folder.id);
            list.push(folder);
            if (listOptions.recursive && folder.childFolderCount > 0) {
              if (p.depth >= MAX_FOLDER_DEPTH) omitted.add(folder.id);
              else
                next.push({ parent: folder.id, url: childrenUrl(folder.id), depth: p.depth + 1 });
            }
          }
          if (typeof page['@odata.nextLink'] === 'string') {
            const url = client.nextLinkPath(page['@odata.nextLink']);
            next.push({ parent: p.parent, url, depth: p.depth });
          }
        }
        pending = next;
      }

      const prefix = parent
        ? await ancestorPath(parent, wellKnown!, (id) =>
            client.get<unknown>(folderUrl(id), { headers }),
          )
        : '';
      const out: FolderView[] = [];
      // Depth is bounded by the walk above (and `seen` breaks cycles), so the recursion is too.
      const emit = (key: string, base: string) => {
        for (const folder of children.get(key) ?? []) {
          const path = base
            ? `${base}/${escapePathSegment(folder.displayName)}`
            : escapePathSegment(folder.displayName);
          out.push({
            id: folder.id,
            displayName: folder.displayName,
            path,
            parentFolderId: folder.parentFolderId,
            wellKnownName: wellKnown!.get(folder.id) ?? null,
            unreadItemCount: folder.unreadItemCount,
            totalItemCount: folder.totalItemCount,
            childFolderCount: folder.childFolderCount,
            ...(omitted.has(folder.id) ? { childFoldersOmitted: true as const } : {}),
          });
          emit(folder.id, path);
        }
      };
      emit(TOP, prefix);
      return out;
    },
  };
}

/**
 * The path of `folder` from the top of the mailbox, walking parent links up to the folder behind
 * `msgfolderroot`. Folders outside that tree (search folders) keep the part that was reachable.
 */
async function ancestorPath(
  folder: GraphFolder,
  wellKnown: Map<string, string>,
  get: (id: string) => Promise<{ body: unknown }>,
): Promise<string> {
  const rootId = [...wellKnown].find(([, name]) => name === 'msgfolderroot')?.[0];
  const names: string[] = [];
  let current = folder;
  for (let depth = 0; current.id !== rootId && depth < MAX_FOLDER_DEPTH; depth++) {
    names.unshift(escapePathSegment(current.displayName));
    if (!current.parentFolderId || current.parentFolderId === rootId) break;
    try {
      current = folderOf((await get(current.parentFolderId)).body);
    } catch (error) {
      if (isErrorOf(error, NotFoundError)) break;
      throw error;
    }
  }
  return names.join('/');
}
