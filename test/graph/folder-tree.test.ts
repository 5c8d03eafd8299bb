import { describe, expect, it } from 'vitest';

import { NotFoundError } from '../../src/core/errors';
import {
  addFolderPage,
  ancestorPath,
  folderViews,
  MAX_FOLDER_DEPTH,
  newFolderTree,
  TOP,
} from '../../src/graph/folder-tree';

const folder = (id: string, displayName: string, parentFolderId: string, childFolderCount = 0) => ({
  id,
  displayName,
  parentFolderId,
  childFolderCount,
  unreadItemCount: 1,
  totalItemCount: 2,
});

describe('folder tree', () => {
  it('adds each folder once and expands only those with children, when recursive', () => {
    const tree = newFolderTree();
    const page = [folder('a', 'Inbox', 'root', 2), folder('b', 'Archive', 'root')];
    expect(addFolderPage(tree, { parent: TOP, depth: 1, value: page }, true)).toEqual(['a']);
    // A page repeated (or a cycle) adds nothing twice and expands nothing again.
    expect(addFolderPage(tree, { parent: TOP, depth: 1, value: page }, true)).toEqual([]);
    expect(tree.children.get(TOP)!.map((f) => f.id)).toEqual(['a', 'b']);
    const flat = newFolderTree();
    expect(addFolderPage(flat, { parent: TOP, depth: 1, value: page }, false)).toEqual([]);
  });

  it('says where a walk stopped at the depth bound instead of losing the children', () => {
    const tree = newFolderTree();
    const deep = [folder('d', 'Deep', 'p', 3)];
    expect(
      addFolderPage(tree, { parent: 'p', depth: MAX_FOLDER_DEPTH, value: deep }, true),
    ).toEqual([]);
    expect(tree.omitted).toEqual(new Set(['d']));
  });

  it('answers depth first with paths from the prefix, a / in a name escaped', () => {
    const tree = newFolderTree();
    addFolderPage(
      tree,
      {
        parent: TOP,
        depth: 1,
        value: [folder('a', 'Inbox', 'root', 1), folder('s', 'Sent', 'root')],
      },
      true,
    );
    addFolderPage(tree, { parent: 'a', depth: 2, value: [folder('c', 'Clients A/B', 'a')] }, true);
    tree.omitted.add('c');
    const views = folderViews(tree, new Map([['a', 'inbox']]), 'Top');
    expect(views.map((v) => [v.path, v.wellKnownName])).toEqual([
      ['Top/Inbox', 'inbox'],
      ['Top/Inbox/Clients A\\/B', null],
      ['Top/Sent', null],
    ]);
    expect(views[1]).toMatchObject({ childFoldersOmitted: true, parentFolderId: 'a' });
    expect(views[0]).not.toHaveProperty('childFoldersOmitted');
    expect(folderViews(tree, new Map(), '')[0]!.path).toBe('Inbox');
  });

  it('walks parent links up to the mailbox root, keeping what was reachable', async () => {
    const byId = new Map([
      ['p1', folder('p1', 'Projects', 'root')],
      ['root', folder('root', 'Top of Information Store', '')],
    ]);
    const get = (id: string) => {
      const found = byId.get(id);
      return found ? Promise.resolve({ body: found }) : Promise.reject(new NotFoundError(id));
    };
    const wellKnown = new Map([['root', 'msgfolderroot']]);
    expect(await ancestorPath(folder('x', 'A/B', 'p1'), wellKnown, get)).toBe('Projects/A\\/B');
    // A parent gone meanwhile ends the walk where it was.
    expect(await ancestorPath(folder('y', 'Y', 'gone'), wellKnown, get)).toBe('Y');
  });
});
