import { beforeEach, describe, expect, it } from 'vitest';

import { startTestStack } from '../support/stack';
import { useStack } from '../support/use-stack';

const ADELE = 'adele@contoso.test';

describe('folder writes and conversations end to end', () => {
  const graphCalls = () =>
    stack.sandbox.control.requestLog().filter((e) => e.path.startsWith('/v1.0/'));
  const json = (method: string, path: string, body: unknown) =>
    stack.api(`/api/credentials/c1${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const folderAt = (path: string) =>
    stack.sandbox.control.folders(ADELE).find((f) => f.path.toLowerCase() === path.toLowerCase());
  const problem = async (response: Response) =>
    (await response.json()) as { code: string; detail: string; errors?: Array<{ path: string }> };

  const stack = useStack(
    () => startTestStack({ storage: false }),
    async () => {
      await stack.connect('c1');
    },
  );
  beforeEach(() => stack.sandbox.control.clearRequestLog());

  it('creates a folder under a parent path, renames it, moves it and deletes it', async () => {
    const created = await json('POST', '/folders', {
      displayName: 'Customers',
      parent: 'Archive/2025',
    });
    expect(created.status).toBe(201);
    const folder = (await created.json()) as {
      id: string;
      displayName: string;
      parentFolderId: string;
    };
    expect(folder.displayName).toBe('Customers');
    expect(folderAt('Archive/2025/Customers')?.id).toBe(folder.id);

    const renamed = await json('PATCH', `/folders/${encodeURIComponent(folder.id)}`, {
      displayName: 'Clients',
    });
    expect(renamed.status).toBe(200);
    expect(folderAt('Archive/2025/Clients')?.id).toBe(folder.id);

    const moved = await json('PATCH', `/folders/${encodeURIComponent('Archive/2025/Clients')}`, {
      parent: 'inbox',
    });
    expect(moved.status).toBe(200);
    expect(folderAt('Inbox/Clients')?.id).toBe(folder.id);

    const deleted = await stack.api(
      `/api/credentials/c1/folders/${encodeURIComponent(folder.id)}`,
      {
        method: 'DELETE',
      },
    );
    expect(deleted.status).toBe(204);
    expect(folderAt('Inbox/Clients')).toBeUndefined();
  });

  it('forgets remembered paths after a folder write, so a renamed path is not found', async () => {
    const created = (await (
      await json('POST', '/folders', { displayName: 'Old name' })
    ).json()) as {
      id: string;
    };
    const m = stack.sandbox.control.addMessage(ADELE, 'inbox', { subject: 'x' });
    expect(
      (await json('POST', `/messages/${m.immutableId}/move`, { destination: 'Old name' })).status,
    ).toBe(200);
    await json('PATCH', `/folders/${encodeURIComponent(created.id)}`, { displayName: 'New name' });
    const stale = await json('POST', `/messages/${m.immutableId}/move`, {
      destination: 'Old name',
    });
    expect(stale.status).toBe(404);
    const fresh = await json('POST', `/messages/${m.immutableId}/move`, {
      destination: 'New name',
    });
    expect(fresh.status).toBe(200);
  });

  it('answers 409 for a name already taken beside it', async () => {
    const response = await json('POST', '/folders', { displayName: 'projects', parent: 'Inbox' });
    expect(response.status).toBe(409);
    expect((await problem(response)).code).toBe('conflict');
  });

  it('refuses to rename, move or delete a well-known folder, without calling Graph', async () => {
    const rename = await json('PATCH', '/folders/inbox', { displayName: 'Mine' });
    expect(rename.status).toBe(400);
    expect((await problem(rename)).errors!.map((e) => e.path)).toEqual(['folderId']);
    const remove = await stack.api('/api/credentials/c1/folders/Archive', { method: 'DELETE' });
    expect(remove.status).toBe(400);
    expect(graphCalls()).toEqual([]);
  });

  it('answers 400 naming bad fields without calling Graph, and 404 naming a missing parent', async () => {
    for (const [method, path, body, field] of [
      ['POST', '/folders', { displayName: '   ' }, 'displayName'],
      ['POST', '/folders', { name: 'x' }, 'name'],
      ['POST', '/folders', { displayName: 'x', parent: 'a//b' }, 'parent'],
      ['PATCH', '/folders/Inbox%2FProjects', {}, '(body)'],
    ] as const) {
      const response = await json(method, path, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await problem(response)).errors!.map((e) => e.path)).toContain(field);
    }
    expect(graphCalls()).toEqual([]);
    const missing = await json('POST', '/folders', {
      displayName: 'x',
      parent: 'Inbox/Nope/Deeper',
    });
    expect(missing.status).toBe(404);
    expect((await problem(missing)).detail).toContain("'Nope' under 'Inbox'");
  });

  it('lists a conversation across folders, oldest first, with cursor paging', async () => {
    const first = stack.sandbox.control.addMessage(ADELE, 'inbox', {
      subject: 'Thread start',
      receivedDateTime: '2026-01-01T10:00:00Z',
    });
    const conversationId = first.conversationId as string;
    for (const [folder, at] of [
      ['sentitems', '2026-01-01T11:00:00Z'],
      ['archive', '2026-01-01T12:00:00Z'],
      ['inbox', '2026-01-01T13:00:00Z'],
    ] as const) {
      stack.sandbox.control.addMessage(ADELE, folder, {
        subject: 'RE: Thread start',
        receivedDateTime: at,
        conversationId,
      });
    }
    stack.sandbox.control.addMessage(ADELE, 'inbox', { subject: 'Other thread' });
    const url = `/api/credentials/c1/conversations/${encodeURIComponent(conversationId)}/messages`;
    const page1 = (await (await stack.api(`${url}?top=3`)).json()) as {
      messages: Array<{ receivedDateTime: string; conversationId: string }>;
      nextCursor: string | null;
    };
    expect(page1.messages.map((m) => m.receivedDateTime)).toEqual([
      '2026-01-01T10:00:00Z',
      '2026-01-01T11:00:00Z',
      '2026-01-01T12:00:00Z',
    ]);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = (await (
      await stack.api(`${url}?cursor=${encodeURIComponent(page1.nextCursor!)}`)
    ).json()) as typeof page1;
    expect(page2.messages.map((m) => m.receivedDateTime)).toEqual(['2026-01-01T13:00:00Z']);
    expect(page2.nextCursor).toBeNull();

    // A cursor belongs to its conversation.
    const other = await stack.api(
      `/api/credentials/c1/conversations/AAQkADother/messages?cursor=${encodeURIComponent(page1.nextCursor!)}`,
    );
    expect(other.status).toBe(400);
  });
});
