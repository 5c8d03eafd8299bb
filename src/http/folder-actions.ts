import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';

import { ValidationError } from '../core/errors';
import {
  type FolderReference,
  MAX_FOLDER_REFERENCE_LENGTH,
  parseFolderReference,
} from '../graph/folder-resolver';
import { type FolderChange } from '../mail/folder-actions';
import { readJson } from './parse';

/** Request bodies of the folder writes, validated before anything reaches Graph. */

const displayName = z
  .string({ error: 'must be a folder name' })
  .max(255, 'must be at most 255 characters')
  .refine((name) => name.trim() !== '', 'must not be empty');

const parent = z
  .string({ error: 'must be a folder id, a well-known name or a path' })
  .min(1, 'must not be empty')
  .max(MAX_FOLDER_REFERENCE_LENGTH);

/** `POST …/folders`: `{displayName, parent?}`. */
export async function readNewFolder(
  request: HttpRequest,
): Promise<{ displayName: string; parent?: FolderReference }> {
  const { value } = await readJson(
    request,
    z.strictObject({ displayName, parent: parent.optional() }),
  );
  return {
    displayName: value.displayName,
    ...(value.parent === undefined ? {} : { parent: parseFolderReference(value.parent, 'parent') }),
  };
}

/** `PATCH …/folders/{folderId}`: `{displayName?, parent?}`, at least one. */
export async function readFolderChange(request: HttpRequest): Promise<FolderChange> {
  const { value } = await readJson(
    request,
    z
      .strictObject({ displayName: displayName.optional(), parent: parent.optional() })
      .refine((b) => b.displayName !== undefined || b.parent !== undefined, {
        message: 'must change displayName, parent or both',
      }),
  );
  return {
    displayName: value.displayName,
    parent: value.parent === undefined ? undefined : parseFolderReference(value.parent, 'parent'),
  };
}

/** The `{folderId}` route parameter: a folder id, a well-known name or a URL-encoded path. */
export function routeFolder(request: HttpRequest): FolderReference {
  const value = request.params.folderId ?? '';
  if (value === '' || value.length > MAX_FOLDER_REFERENCE_LENGTH) {
    throw new ValidationError({
      path: 'folderId',
      message: 'must be a folder id, a well-known name or a path',
    });
  }
  return parseFolderReference(value, 'folderId');
}
