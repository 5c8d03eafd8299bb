import {
  type CallOptions,
  type Friendly,
  type JsonBody,
  type Query,
  type Transport,
  urlQuery,
} from './transport';

/** The mailbox's folders: list, create, rename or move, delete. */
export function folderCalls({ api, call }: Transport, credentialId: string) {
  const path = { credentialId };
  return {
    listFolders: (query: Friendly<Query<'listFolders'>> = {}, o?: CallOptions) =>
      call(
        (signal) =>
          api.GET('/credentials/{credentialId}/folders', {
            params: { path, query: urlQuery(query) },
            signal,
          }),
        o,
      ).then((r) => r.folders),
    createFolder: (folder: JsonBody<'createFolder'>, o?: CallOptions) =>
      call(
        (signal) =>
          api.POST('/credentials/{credentialId}/folders', {
            params: { path },
            body: folder,
            signal,
          }),
        o,
      ),
    updateFolder: (folderId: string, change: JsonBody<'updateFolder'>, o?: CallOptions) =>
      call(
        (signal) =>
          api.PATCH('/credentials/{credentialId}/folders/{folderId}', {
            params: { path: { credentialId, folderId } },
            body: change,
            signal,
          }),
        o,
      ),
    deleteFolder: (folderId: string, o?: CallOptions) =>
      call(
        (signal) =>
          api.DELETE('/credentials/{credentialId}/folders/{folderId}', {
            params: { path: { credentialId, folderId } },
            signal,
          }),
        o,
      ),
  };
}
