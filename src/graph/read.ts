import { type CredentialKey } from '../credentials/types';
import { type AttachmentReader, createAttachmentReader } from './attachments';
import { type GraphFactory } from './client';
import { createCursorCodec } from './cursor';
import { createFolderReader, type FolderReader } from './folders';
import { createMessageReader, messageCursorSchema, type MessageReader } from './messages';

export interface Readers {
  folders: FolderReader;
  messages: MessageReader;
  attachments: AttachmentReader;
}

/** The read side of the API over the shared Graph helper; cursors are signed with `cursorKey`. */
export function createReaders(deps: {
  graph: GraphFactory<CredentialKey>;
  cursorKey: () => Promise<Buffer>;
}): Readers {
  const cursors = createCursorCodec({ key: deps.cursorKey, schema: messageCursorSchema });
  return {
    folders: createFolderReader({ graph: deps.graph }),
    messages: createMessageReader({ graph: deps.graph, cursors }),
    attachments: createAttachmentReader({ graph: deps.graph }),
  };
}
