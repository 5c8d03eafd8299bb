import { isErrorOf, NotFoundError, UpstreamError } from '../core/errors';

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

/** A folder as Graph answers it (listings, create, update, move). */
export interface GraphFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  childFolderCount: number;
  unreadItemCount: number;
  totalItemCount: number;
}

/**
 * Exchange nests folders up to 300 levels (Microsoft's answer in OfficeDocs-O365ServiceDescriptions #92),
 * so a listing walks that deep; the bound only stops a malformed parent chain, and a folder whose
 * children lie below it says so instead of losing them silently.
 */
export const MAX_FOLDER_DEPTH = 300;

/** The parent key of the listed level's folders in a {@link FolderTree}. */
export const TOP = '';

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

/** The folders a listing walked, by parent. */
export interface FolderTree {
  /** Children by parent id ({@link TOP} for the listed level), in Graph's order. */
  children: Map<string, GraphFolder[]>;
  /** Folders whose children lie below {@link MAX_FOLDER_DEPTH} (said so, not lost silently). */
  omitted: Set<string>;
  /** Every folder added: a page repeated or a cycle adds nothing twice. */
  seen: Set<string>;
}

export const newFolderTree = (): FolderTree => ({
  children: new Map(),
  omitted: new Set(),
  seen: new Set(),
});

/**
 * Adds one page of `parent`'s children, `depth` levels below the top; returns the ids of those
 * whose own children a recursive listing reads next.
 */
export function addFolderPage(
  tree: FolderTree,
  page: { parent: string; depth: number; value: readonly unknown[] },
  recursive: boolean,
): string[] {
  const list = tree.children.get(page.parent) ?? [];
  tree.children.set(page.parent, list);
  const expand: string[] = [];
  for (const item of page.value) {
    const folder = folderOf(item);
    if (tree.seen.has(folder.id)) continue;
    tree.seen.add(folder.id);
    list.push(folder);
    if (recursive && folder.childFolderCount > 0) {
      if (page.depth >= MAX_FOLDER_DEPTH) tree.omitted.add(folder.id);
      else expand.push(folder.id);
    }
  }
  return expand;
}

/** The tree as the API answers it: depth first, each folder's path from `prefix` down. */
export function folderViews(
  tree: FolderTree,
  wellKnown: ReadonlyMap<string, string>,
  prefix: string,
): FolderView[] {
  const out: FolderView[] = [];
  // Depth is bounded by the walk (and `seen` breaks cycles), so the recursion is too.
  const emit = (key: string, base: string) => {
    for (const folder of tree.children.get(key) ?? []) {
      const path = base
        ? `${base}/${escapePathSegment(folder.displayName)}`
        : escapePathSegment(folder.displayName);
      out.push({
        id: folder.id,
        displayName: folder.displayName,
        path,
        parentFolderId: folder.parentFolderId,
        wellKnownName: wellKnown.get(folder.id) ?? null,
        unreadItemCount: folder.unreadItemCount,
        totalItemCount: folder.totalItemCount,
        childFolderCount: folder.childFolderCount,
        ...(tree.omitted.has(folder.id) ? { childFoldersOmitted: true as const } : {}),
      });
      emit(folder.id, path);
    }
  };
  emit(TOP, prefix);
  return out;
}

/**
 * The path of `folder` from the top of the mailbox, walking parent links up to the folder behind
 * `msgfolderroot`. Folders outside that tree (search folders) keep the part that was reachable.
 */
export async function ancestorPath(
  folder: GraphFolder,
  wellKnown: ReadonlyMap<string, string>,
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
