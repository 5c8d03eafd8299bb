import * as z from 'zod';

import { type FolderReader } from '../graph/folders';
import { type HttpFunctionDefinition } from '../http/definitions';
import { credentialKey, graphIdParam, mailboxParam } from '../http/params';
import { parseQuery, queryBoolean } from '../http/parse';

const foldersQuery = z.strictObject({
  parentId: graphIdParam.optional(),
  recursive: queryBoolean.optional(),
  includeHidden: queryBoolean.optional(),
  mailbox: mailboxParam.optional(),
});

/** `GET credentials/{credentialId}/folders`: one level or the whole tree, flat and depth-first. */
export function listFoldersFunction(deps: { folders: FolderReader }): HttpFunctionDefinition {
  return {
    kind: 'http',
    name: 'listFolders',
    methods: ['GET'],
    route: 'credentials/{credentialId}/folders',
    auth: 'caller',
    async handler(invocation) {
      const key = credentialKey(invocation);
      const q = parseQuery(invocation.request, foldersQuery);
      const folders = await deps.folders.list(key, {
        parentId: q.parentId,
        recursive: q.recursive ?? false,
        includeHidden: q.includeHidden ?? false,
        mailbox: q.mailbox,
        abortSignal: invocation.abortSignal,
        log: invocation.log,
      });
      // A tree cut at Exchange's depth limit says so at the top as well as on the folder.
      const truncated = folders.some((f) => f.childFoldersOmitted);
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        jsonBody: truncated ? { folders, truncated } : { folders },
      };
    },
  };
}
