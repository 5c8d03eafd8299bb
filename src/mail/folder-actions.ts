import { type CredentialKey } from '../credentials/types';
import { ValidationError } from '../core/errors';
import { type GraphFactory, type MailboxGraph } from '../graph/client';
import { type FolderReference, type FolderResolver } from '../graph/folder-resolver';
import {
  createFolder,
  deleteFolder,
  moveFolder,
  renameFolder,
  type WrittenFolder,
} from '../graph/folder-writes';
import { type ActionOptions } from './message-actions';

/**
 * Folder writes: create under a parent named by id, well-known name or path; rename and move
 * (together or apart); delete. Every write forgets the paths remembered for that credential and
 * mailbox, so the next path lookup sees the new tree.
 */

export interface FolderChange {
  displayName?: string | undefined;
  parent?: FolderReference | undefined;
}

export interface FolderActions {
  create(
    key: CredentialKey,
    folder: { displayName: string; parent?: FolderReference | undefined },
    options: ActionOptions,
  ): Promise<WrittenFolder>;
  update(
    key: CredentialKey,
    folder: FolderReference,
    change: FolderChange,
    options: ActionOptions,
  ): Promise<WrittenFolder>;
  delete(key: CredentialKey, folder: FolderReference, options: ActionOptions): Promise<void>;
}

const TOP: FolderReference = { kind: 'wellKnown', name: 'msgfolderroot' };

/** Exchange's default folders can be neither renamed, moved nor deleted. */
function ownFolder(folder: FolderReference, field: string): FolderReference {
  if (folder.kind === 'wellKnown') {
    throw new ValidationError({
      path: field,
      message: `is the well-known folder '${folder.name}', which cannot be renamed, moved or deleted`,
    });
  }
  return folder;
}

export function createFolderActions(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  folders: FolderResolver;
}): FolderActions {
  async function writing<T>(
    key: CredentialKey,
    options: ActionOptions,
    work: (graph: MailboxGraph) => Promise<T>,
  ): Promise<T> {
    const graph = await deps.graph.forCredential(key, { ...options, writes: true });
    try {
      return await work(graph);
    } finally {
      // Also after a failure: a lost answer may hide a write that happened.
      deps.folders.invalidate(key, graph.mailboxAddress);
    }
  }

  return {
    create(key, folder, options) {
      return writing(key, options, async (graph) => {
        const parent = await deps.folders.resolve(graph, key, folder.parent ?? TOP);
        return createFolder(graph, parent.id, folder.displayName);
      });
    },
    update(key, folder, change, options) {
      ownFolder(folder, 'folderId');
      return writing(key, options, async (graph) => {
        const target = await deps.folders.resolve(graph, key, folder);
        let written: WrittenFolder | undefined;
        if (change.parent) {
          const parent = await deps.folders.resolve(graph, key, change.parent);
          written = await moveFolder(graph, target.id, parent.id);
        }
        if (change.displayName !== undefined) {
          written = await renameFolder(graph, target.id, change.displayName);
        }
        return written!;
      });
    },
    delete(key, folder, options) {
      ownFolder(folder, 'folderId');
      return writing(key, options, async (graph) => {
        const target = await deps.folders.resolve(graph, key, folder);
        await deleteFolder(graph, target.id);
      });
    },
  };
}
