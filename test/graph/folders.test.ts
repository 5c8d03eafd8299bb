import { beforeEach, describe, expect, it } from 'vitest';

import { NotFoundError } from '../../src/core/errors';
import { escapePathSegment, createFolderReader, type FolderView } from '../../src/graph/folders';
import { startTestSandbox } from '../support/sandbox';
import { type FolderInfo } from '../../src/local/sandbox';
import { readOptions, sandboxGraph } from '../support/graph-read';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';
const key = { serviceId: 'svc', credentialId: ADELE };

/** What the API should say about a sandbox folder. */
const expected = (f: FolderInfo): FolderView => ({
  id: f.id,
  displayName: f.displayName,
  path: f.path,
  parentFolderId: f.parentFolderId,
  wellKnownName: f.wellKnownName,
  unreadItemCount: f.unreadItemCount,
  totalItemCount: f.totalItemCount,
  childFolderCount: f.childFolderCount,
});

/** The sandbox's depth-first list without hidden folders and whatever lies below them. */
function visible(all: FolderInfo[]): FolderInfo[] {
  const hidden = all.filter((f) => f.isHidden).map((f) => `${f.path}/`);
  return all.filter((f) => !f.isHidden && !hidden.some((h) => f.path.startsWith(h)));
}

describe('folder reader against the sandbox', () => {
  const sandbox = useStack(() => startTestSandbox());
  beforeEach(() => sandbox.control.clearRequestLog());

  const reader = (pageSize?: number) =>
    createFolderReader({ graph: sandboxGraph(sandbox), ...(pageSize ? { pageSize } : {}) });

  it('lists the whole visible tree depth-first with paths, well-known names and counts', async () => {
    const folders = await reader().list(key, {
      recursive: true,
      includeHidden: false,
      ...readOptions(),
    });
    expect(folders).toEqual(visible(sandbox.control.folders(ADELE)).map(expected));
    const paths = folders.map((f) => f.path);
    expect(paths).toContain('Inbox/Receipts\\/Invoices');
    expect(paths.indexOf('Inbox/Projects')).toBeLessThan(paths.indexOf('Inbox/Projects/2025'));
    expect(folders.find((f) => f.path === 'Inbox')?.wellKnownName).toBe('inbox');
    expect(folders.find((f) => f.path === 'Sync Issues/Conflicts')?.wellKnownName).toBe(
      'conflicts',
    );
  });

  it('includes hidden folders with includeHidden, sending includeHiddenFolders=true', async () => {
    const folders = await reader().list(key, {
      recursive: true,
      includeHidden: true,
      ...readOptions(),
    });
    expect(folders).toEqual(sandbox.control.folders(ADELE).map(expected));
    const lists = sandbox.control
      .requestLog()
      .filter((e) => /childFolders$|mailFolders$/.test(e.path));
    expect(lists.length).toBeGreaterThan(0);
    for (const entry of lists) expect(entry.query).toContain('includeHiddenFolders=true');
  });

  it('lists one level only when not recursive', async () => {
    const folders = await reader().list(key, {
      recursive: false,
      includeHidden: false,
      ...readOptions(),
    });
    expect(folders.map((f) => f.path)).toEqual(
      visible(sandbox.control.folders(ADELE))
        .filter((f) => !f.path.replace(/\\\//g, '').includes('/'))
        .map((f) => f.path),
    );
  });

  it('lists below a parent given by well-known name or id, with full paths', async () => {
    const byName = await reader().list(key, {
      parentId: 'inbox',
      recursive: true,
      includeHidden: false,
      ...readOptions(),
    });
    expect(byName.map((f) => f.path)).toEqual(
      sandbox.control
        .folders(ADELE)
        .filter((f) => f.path.startsWith('Inbox/'))
        .map((f) => f.path),
    );
    const projects = sandbox.control.folders(ADELE).find((f) => f.path === 'Inbox/Projects')!;
    const byId = await reader().list(key, {
      parentId: projects.id,
      recursive: false,
      includeHidden: false,
      ...readOptions(),
    });
    expect(byId.map((f) => f.path)).toEqual(['Inbox/Projects/2025', 'Inbox/Projects/2026']);
  });

  it('answers NotFound for a parent that does not exist', async () => {
    await expect(
      reader().list(key, {
        parentId: 'AAMkAGnotthere',
        recursive: true,
        includeHidden: false,
        ...readOptions(),
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('batches each level, expands only folders with children and caches well-known ids', async () => {
    const shared = reader();
    await shared.list(key, { recursive: true, includeHidden: false, ...readOptions() });
    const first = sandbox.control.requestLog();
    const outer = first.filter((e) => !e.inBatch);
    // One round trip per level (3 levels): level 0 shares a batch with the well-known lookups,
    // level 1 is a batch, level 2 (a single folder to expand) goes out alone.
    expect(outer).toHaveLength(3);
    expect(outer[0]!.path).toBe('/v1.0/$batch');
    expect(first.filter((e) => e.inBatch && /mailFolders\/inbox$/.test(e.path))).toHaveLength(1);
    const expanded = first
      .filter((e) => e.path.endsWith('/childFolders'))
      .map((e) => decodeURIComponent(e.path.split('/')[4]!));
    const withChildren = visible(sandbox.control.folders(ADELE)).filter(
      (f) => f.childFolderCount > 0,
    );
    expect(expanded.sort()).toEqual(withChildren.map((f) => f.id).sort());

    sandbox.control.clearRequestLog();
    await shared.list(key, { recursive: false, includeHidden: false, ...readOptions() });
    const second = sandbox.control.requestLog();
    // Well-known ids come from the cache: a single plain request.
    expect(second.map((e) => [e.path, e.inBatch])).toEqual([['/v1.0/me/mailFolders', false]]);
  });

  it('follows next links inside the batches until every page is read', async () => {
    const folders = await reader(2).list(key, {
      recursive: true,
      includeHidden: true,
      ...readOptions(),
    });
    expect(folders).toEqual(sandbox.control.folders(ADELE).map(expected));
    expect(sandbox.control.requestLog().some((e) => e.query.includes('%24skip='))).toBe(true);
  });

  it('escapes a slash inside a folder name', () => {
    expect(escapePathSegment('Receipts/Invoices')).toBe('Receipts\\/Invoices');
  });
});
