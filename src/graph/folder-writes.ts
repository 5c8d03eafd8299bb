import { type MailboxGraph, segment } from './client';
import { folderOf, type GraphFolder } from './folders';

/** Graph's mailFolder writes: create (childFolders), update (displayName), move, delete. */

/** The folder as Graph answers a write. */
export type WrittenFolder = GraphFolder;

const writtenFolder = folderOf;

const folderPath = (graph: MailboxGraph, id: string) => `${graph.root}/mailFolders/${segment(id)}`;

/** `POST mailFolders/{parent}/childFolders` → 201. Not retried past a throttle: it is not repeatable. */
export async function createFolder(
  graph: MailboxGraph,
  parentId: string,
  displayName: string,
): Promise<WrittenFolder> {
  const { body } = await graph.client.json<unknown>(
    'POST',
    `${folderPath(graph, parentId)}/childFolders`,
    { body: { displayName }, retry: 'throttle-only' },
  );
  return writtenFolder(body);
}

/** `PATCH mailFolders/{id}` with the new display name → 200. */
export async function renameFolder(
  graph: MailboxGraph,
  folderId: string,
  displayName: string,
): Promise<WrittenFolder> {
  const { body } = await graph.client.json<unknown>('PATCH', folderPath(graph, folderId), {
    body: { displayName },
    retry: 'idempotent',
  });
  return writtenFolder(body);
}

/** `POST mailFolders/{id}/move {destinationId}` → 200; folder ids do not change. */
export async function moveFolder(
  graph: MailboxGraph,
  folderId: string,
  destinationId: string,
): Promise<WrittenFolder> {
  const { body } = await graph.client.json<unknown>('POST', `${folderPath(graph, folderId)}/move`, {
    body: { destinationId },
    retry: 'idempotent',
  });
  return writtenFolder(body);
}

/** `DELETE mailFolders/{id}` → 204. */
export async function deleteFolder(graph: MailboxGraph, folderId: string): Promise<void> {
  await graph.client.send('DELETE', folderPath(graph, folderId), { retry: 'throttle-only' });
}
