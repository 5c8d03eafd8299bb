import { z } from 'zod';

import { readFolderChange, readNewFolder, routeFolder } from '../http/folder-actions';
import { parseQuery } from '../http/parse';
import { type FolderActions } from '../mail/folder-actions';
import { credentialKey, mailboxParam } from './messages';
import { type HttpFunctionDefinition } from '../http/definitions';

const mailboxQuery = z.strictObject({ mailbox: mailboxParam.optional() });
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
        const q = parseQuery(invocation.request, mailboxQuery);
        const folder = await readNewFolder(invocation.request);
        const created = await folders.create(key, folder, {
          mailbox: q.mailbox,
          deadline: invocation.deadline,
          log: invocation.log,
        });
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
        const q = parseQuery(invocation.request, mailboxQuery);
        const change = await readFolderChange(invocation.request);
        const updated = await folders.update(key, folder, change, {
          mailbox: q.mailbox,
          deadline: invocation.deadline,
          log: invocation.log,
        });
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
        const q = parseQuery(invocation.request, mailboxQuery);
        await folders.delete(key, folder, {
          mailbox: q.mailbox,
          deadline: invocation.deadline,
          log: invocation.log,
        });
        return { status: 204, headers: NO_STORE };
      },
    },
  ];
}
