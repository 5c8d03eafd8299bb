import { badRequest, GraphError, type GraphResponse } from '../errors';
import { compileFilter, type FilterSchema } from '../odata/filter';
import type { GraphContext } from '../state';
import type { Folder } from '../store';
import { contextUrl, FOLDER_PROPERTIES, folderView, parseSelect } from '../views';
import { actionParameters, intParam, jsonBody, noContent, ok, selfLink } from './helpers';

const FOLDER_SCHEMA: FilterSchema<Folder> = {
  typeName: 'microsoft.graph.mailFolder',
  properties: {
    id: { type: 'string', get: (f) => f.id },
    displayName: { type: 'string', get: (f) => f.displayName },
    parentFolderId: { type: 'string', get: (f) => f.parentId },
    isHidden: { type: 'boolean', get: (f) => f.isHidden },
    childFolderCount: { type: 'number', get: (f) => f.children.length },
    totalItemCount: { type: 'number', get: (f) => f.messages.length },
    unreadItemCount: { type: 'number', get: (f) => f.messages.filter((m) => !m.isRead).length },
  },
  collections: {},
};

export function resolveFolder(ctx: GraphContext, idOrName: string): Folder {
  const folder = ctx.state.store.folder(ctx.mailbox, idOrName);
  if (!folder)
    throw new GraphError(
      404,
      'ErrorItemNotFound',
      'The specified object was not found in the store.',
    );
  return folder;
}

/** GET mailFolders / childFolders: direct children only, hidden ones only with includeHiddenFolders=true. */
export function listFolders(ctx: GraphContext, parent: Folder, contextTail: string): GraphResponse {
  const includeHidden = (ctx.req.query.get('includeHiddenFolders') ?? '').toLowerCase() === 'true';
  const select = parseSelect(
    ctx.req.query.get('$select'),
    FOLDER_PROPERTIES,
    'microsoft.graph.mailFolder',
  );
  const top = intParam(ctx, '$top') ?? 10;
  const skip = intParam(ctx, '$skip') ?? 0;
  let folders = parent.children.filter((f) => includeHidden || !f.isHidden);
  const filter = ctx.req.query.get('$filter');
  if (filter) {
    const { predicate } = compileFilter(filter, FOLDER_SCHEMA);
    folders = folders.filter(predicate);
  }
  folders = [...folders].sort((a, b) => a.displayName.localeCompare(b.displayName));
  const page = folders.slice(skip, skip + top);
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(ctx.state.origin(), ctx.mailbox, contextTail),
  };
  if ((ctx.req.query.get('$count') ?? '').toLowerCase() === 'true')
    body['@odata.count'] = folders.length;
  body.value = page.map((f) => folderView(f, select));
  if (skip + top < folders.length)
    body['@odata.nextLink'] = selfLink(ctx, { $skip: String(skip + top) });
  return ok(body);
}

export function getFolder(ctx: GraphContext, folder: Folder): GraphResponse {
  const select = parseSelect(
    ctx.req.query.get('$select'),
    FOLDER_PROPERTIES,
    'microsoft.graph.mailFolder',
  );
  return ok({
    '@odata.context': contextUrl(ctx.state.origin(), ctx.mailbox, 'mailFolders/$entity'),
    ...folderView(folder, select),
  });
}

/** POST mailFolders / childFolders: create a folder (names are unique among siblings). */
export function createFolder(ctx: GraphContext, parent: Folder): GraphResponse {
  const body = jsonBody(ctx);
  const name = body.displayName;
  if (typeof name !== 'string' || name.trim() === '')
    throw badRequest('The displayName property is required.', 'ErrorInvalidParameter');
  assertNameFree(parent, name);
  const folder = ctx.state.store.addFolder(ctx.mailbox, parent, name, body.isHidden === true);
  return folderEntity(ctx, folder, 201);
}

function folderEntity(ctx: GraphContext, folder: Folder, status: number): GraphResponse {
  return ok(
    {
      '@odata.context': contextUrl(ctx.state.origin(), ctx.mailbox, 'mailFolders/$entity'),
      ...folderView(folder, null),
    },
    status,
  );
}

function assertNameFree(parent: Folder, name: string, except?: Folder): void {
  const taken = parent.children.some(
    (c) => c !== except && c.displayName.toLowerCase() === name.toLowerCase(),
  );
  if (taken)
    throw new GraphError(
      409,
      'ErrorFolderExists',
      'A folder with the specified name already exists.',
    );
}

/** Exchange's default folders can be neither renamed, moved nor deleted. */
function assertNotDistinguished(folder: Folder, code: string, verb: string): void {
  if (folder.wellKnownName !== null)
    throw badRequest(`Distinguished folders cannot be ${verb}.`, code);
}

/** PATCH mailFolders/{id}: `displayName` is the only writable property (200 with the folder). */
export function updateFolder(ctx: GraphContext, folder: Folder): GraphResponse {
  const body = jsonBody(ctx);
  for (const key of Object.keys(body)) {
    if (key !== 'displayName')
      throw badRequest(
        `The property '${key}' does not exist on type 'microsoft.graph.mailFolder' or is read-only.`,
        'RequestBodyRead',
      );
  }
  const name = body.displayName;
  if (name === undefined) return folderEntity(ctx, folder, 200);
  if (typeof name !== 'string' || name.trim() === '')
    throw badRequest('The displayName property is required.', 'ErrorInvalidParameter');
  assertNotDistinguished(folder, 'ErrorCannotRenameDistinguishedFolder', 'renamed');
  const parent = ctx.mailbox.foldersById.get(folder.parentId);
  if (parent) assertNameFree(parent, name, folder);
  ctx.state.store.renameFolder(folder, name);
  return folderEntity(ctx, folder, 200);
}

/** POST mailFolders/{id}/move {destinationId}: 200 with the folder under its new parent. */
export function moveFolder(ctx: GraphContext, folder: Folder): GraphResponse {
  const { destinationId } = actionParameters(ctx, 'move', ['destinationId']);
  if (typeof destinationId !== 'string' || destinationId === '')
    throw badRequest("The parameter 'DestinationId' is required.", 'ErrorInvalidParameter');
  const parent = resolveFolder(ctx, destinationId);
  assertNotDistinguished(folder, 'ErrorMoveDistinguishedFolder', 'moved');
  if (ctx.state.store.isWithin(ctx.mailbox, parent, folder))
    throw badRequest('A folder cannot be moved into itself or a subfolder.', 'ErrorMoveCopyFailed');
  assertNameFree(parent, folder.displayName, folder);
  ctx.state.store.moveFolder(ctx.mailbox, folder, parent);
  return folderEntity(ctx, folder, 200);
}

/** DELETE mailFolders/{id}: 204; the folder, its subfolders and their messages leave the tree. */
export function deleteFolder(ctx: GraphContext, folder: Folder): GraphResponse {
  assertNotDistinguished(folder, 'ErrorDeleteDistinguishedFolder', 'deleted');
  ctx.state.store.deleteFolder(ctx.mailbox, folder);
  return noContent();
}
