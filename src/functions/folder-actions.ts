import { type HttpFunctionDefinition } from '../http/definitions';
import { readFolderChange, readNewFolder, routeFolder } from '../http/folder-actions';
import { type FolderActions } from '../mail/folder-actions';
import { actionOptions, credentialKey } from '../http/params';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Folder writes: `POST credentials/{id}/folders` `{displayName, parent?}`, `PATCH …/folders/{folderId}`
 * `{displayName?, parent?}` (rename, move or both) and `DELETE …/folders/{folderId}`. A folder is
 * named by id, well-known name or (URL-encoded) path, as everywhere else.
 */
export function folderActionFunctions(folders: FolderActions): HttpFunctionDefinition[] {
  return [
    {
      kind: 'http',
      name: 'createFolder',
      methods: ['POST'],
      route: 'credentials/{credentialId}/folders',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const options = actionOptions(invocation);
        const created = await folders.create(key, await readNewFolder(invocation.request), options);
        return { status: 201, headers: NO_STORE, jsonBody: created };
      },
    },
    {
      kind: 'http',
      name: 'updateFolder',
      methods: ['PATCH'],
      route: 'credentials/{credentialId}/folders/{folderId}',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const folder = routeFolder(invocation.request);
        const options = actionOptions(invocation);
        const change = await readFolderChange(invocation.request);
        const updated = await folders.update(key, folder, change, options);
        return { status: 200, headers: NO_STORE, jsonBody: updated };
      },
    },
    {
      kind: 'http',
      name: 'deleteFolder',
      methods: ['DELETE'],
      route: 'credentials/{credentialId}/folders/{folderId}',
      auth: 'caller',
      async handler(invocation) {
        const key = credentialKey(invocation);
        const folder = routeFolder(invocation.request);
        await folders.delete(key, folder, actionOptions(invocation));
        return { status: 204, headers: NO_STORE };
      },
    },
  ];
}
