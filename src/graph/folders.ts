import { isErrorOf, NotFoundError, UpstreamError } from '../core/errors';
import { type Logger } from '../core/logger';
import { type CredentialKey } from '../credentials/types';
import { type BatchRequest, type BatchResponse, runBatch } from './batch';
import { buildPath, type GraphFactory, segment } from './client';
import { toGraphError } from './errors';
import { type ReadOptions } from './messages';
import {
  addFolderPage,
  ancestorPath,
  folderOf,
  type FolderView,
  type GraphFolder,
  folderViews,
  newFolderTree,
  TOP,
} from './folder-tree';
import { readPreferHeaders } from './prefer';

export {
  escapePathSegment,
  folderOf,
  type FolderView,
  type GraphFolder,
  MAX_FOLDER_DEPTH,
} from './folder-tree';

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

interface FolderPage {
  value?: unknown;
  '@odata.nextLink'?: unknown;
}

const FOLDER_SELECT =
  'id,displayName,parentFolderId,childFolderCount,unreadItemCount,totalItemCount';
/** No maximum is documented for folder pages; big pages keep a wide level to few requests. */
const FOLDER_PAGE_SIZE = 1000;
function failure(response: BatchResponse) {
  return toGraphError(
    response.status,
    new Headers(response.headers),
    JSON.stringify(response.body),
  );
}

/** The ids behind the well-known names, from the first round's `w:{name}` answers. */
function wellKnownFrom(results: Map<string, BatchResponse>, log: Logger): Map<string, string> {
  const wellKnown = new Map<string, string>();
  for (const name of WELL_KNOWN_FOLDER_NAMES) {
    const response = results.get(`w:${name}`);
    const id = (response?.body as { id?: unknown } | undefined)?.id;
    // A name the mailbox lacks (no archive, no clutter) answers 404 and is simply absent.
    if (response?.status === 200 && typeof id === 'string') wellKnown.set(id, name);
    else if (response && response.status !== 404) {
      log.warn('well-known folder lookup failed', { name, status: response.status });
    }
  }
  return wellKnown;
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
      const tree = newFolderTree();
      let pending: Pending[] = [
        {
          parent: TOP,
          url: parentId ? childrenUrl(parentId) : buildPath(`${root}/mailFolders`, query),
          depth: 1,
        },
      ];
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
          wellKnown = wellKnownFrom(results, log);
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
          const expand = addFolderPage(
            tree,
            { parent: p.parent, depth: p.depth, value: page.value },
            listOptions.recursive,
          );
          for (const id of expand) {
            next.push({ parent: id, url: childrenUrl(id), depth: p.depth + 1 });
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
      return folderViews(tree, wellKnown!, prefix);
    },
  };
}
