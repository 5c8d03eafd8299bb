import { beforeEach, describe, expect, it } from 'vitest';

import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';

describe('GET credentials/{id}/folders end to end', () => {
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));

  const stack = useStack(
    () => startTestStack({ storage: false }),
    async () => {
      await stack.connect('c1');
    },
  );
  beforeEach(() => stack.sandbox.control.clearRequestLog());

  it('returns the whole tree, flat and depth-first, with paths and well-known names', async () => {
    const response = await stack.api(
      '/api/credentials/c1/folders?recursive=true&includeHidden=true',
    );
    expect(response.status).toBe(200);
    const { folders } = (await response.json()) as {
      folders: Array<Record<string, unknown>>;
    };
    expect(folders).toEqual(
      stack.sandbox.control.folders(ADELE).map((f) => ({
        id: f.id,
        displayName: f.displayName,
        path: f.path,
        parentFolderId: f.parentFolderId,
        wellKnownName: f.wellKnownName,
        unreadItemCount: f.unreadItemCount,
        totalItemCount: f.totalItemCount,
        childFolderCount: f.childFolderCount,
      })),
    );
  });

  it('lists the children of one folder', async () => {
    const response = await stack.api('/api/credentials/c1/folders?parentId=inbox');
    const { folders } = (await response.json()) as { folders: Array<{ path: string }> };
    expect(folders.map((f) => f.path)).toEqual([
      'Inbox/Newsletters',
      'Inbox/Projects',
      'Inbox/Receipts\\/Invoices',
    ]);
  });

  it('walks 300 levels deep (Exchange allows 300) and says where a deeper tree was cut', async () => {
    await stack.connect('deep', { upn: 'megan@contoso.test' });
    let parent = 'inbox';
    for (let level = 2; level <= 301; level++) {
      parent = stack.sandbox.control.addFolder('megan@contoso.test', parent, `L${level}`);
    }
    const response = await stack.api('/api/credentials/deep/folders?recursive=true');
    const body = (await response.json()) as {
      truncated?: boolean;
      folders: Array<{ path: string; childFoldersOmitted?: boolean }>;
    };
    expect(body.truncated).toBe(true);
    // L300 is the deepest folder listed (Inbox is level 1); L301 below it is the part cut.
    expect(Math.max(...body.folders.map((f) => f.path.split('/').length))).toBe(300);
    expect(body.folders.some((f) => f.path.endsWith('/L301'))).toBe(false);
    expect(body.folders.filter((f) => f.childFoldersOmitted).map((f) => f.path)).toEqual([
      ['Inbox', ...Array.from({ length: 299 }, (_, i) => `L${i + 2}`)].join('/'),
    ]);
    // Adele's tree is shallow: no mark, no flag.
    const shallow = await (await stack.api('/api/credentials/c1/folders?recursive=true')).json();
    expect(shallow).not.toHaveProperty('truncated');
  }, 90_000);

  it('answers 404 for a parent that does not exist', async () => {
    const response = await stack.api('/api/credentials/c1/folders?parentId=AAMkADnothere');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('not_found');
  });

  it.each([
    ['recursive=maybe', 'query.recursive'],
    ['includeHidden=1', 'query.includeHidden'],
    ['parentId=a%2Fb%3Fc', 'query.parentId'],
    ['parentId=' + 'a'.repeat(513), 'query.parentId'],
    ['depth=2', 'query.depth'],
    ['mailbox=x', 'query.mailbox'],
  ])('answers 400 for ?%s without calling Graph', async (query, path) => {
    const response = await stack.api(`/api/credentials/c1/folders?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    const body = (await response.json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((e) => e.path)).toContain(path);
    expect(graphCalls()).toEqual([]);
  });

  it('is isolated per service', async () => {
    const response = await stack.api('/api/credentials/c1/folders', { serviceId: 'other' });
    expect(response.status).toBe(404);
  });
});
