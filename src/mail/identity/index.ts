import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory } from '../../graph/client';
import { requireStorage, type StorageClients } from '../../storage';
import { ATTACHMENT_CONTAINER, createAttachmentBlobs } from '../template-storage';
import { createIdentityService, type IdentityService } from './identities';
import { createSenderPreparer, type SenderPreparer } from './sender';
import { createSignatureService, SIGNATURE_TABLE, type SignatureService } from './signatures';

export { type SenderIdentities } from './identities';
export { type SenderPreparer } from './sender';
export { signatureInputSchema, signatureView, type SignatureService } from './signatures';

/** Sender identities, signatures and the send path's step that applies both. */
export interface Identity {
  identities: IdentityService;
  /** Throws a clear error where no storage is configured. */
  signatures: () => SignatureService;
  sender: SenderPreparer;
  /** Removes what is kept for a deleted credential: its signatures and cached identities. */
  forgetCredential(key: CredentialKey): Promise<void>;
  /**
   * The alias or shared mailbox a per-address signature belongs to: undefined for the
   * credential's own (no `from`, or its primary address); 400 naming `fieldPath` for an address
   * the credential may not send as.
   */
  signatureOwner(
    key: CredentialKey,
    from: string | undefined,
    options: { abortSignal?: AbortSignal; log: Logger; fieldPath: string },
  ): Promise<string | undefined>;
}

export function createIdentity(deps: {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  storage: StorageClients | undefined;
}): Identity {
  const identities = createIdentityService({ graph: deps.graph });
  let signatures: SignatureService | undefined;
  const build = (storage: StorageClients) =>
    (signatures ??= createSignatureService({
      table: () => storage.table(SIGNATURE_TABLE),
      attachments: createAttachmentBlobs(() => storage.container(ATTACHMENT_CONTAINER)),
    }));
  const sender = createSenderPreparer({
    identities,
    signatures: () => (deps.storage ? build(deps.storage) : undefined),
  });
  return {
    identities,
    signatures: () => build(requireStorage(deps.storage, 'Signatures')),
    sender,
    async forgetCredential(key) {
      identities.forget(key);
      if (deps.storage) await build(deps.storage).removeAll(key);
    },
    async signatureOwner(key, from, options) {
      if (from === undefined) return undefined;
      const kind = await sender.checkFrom(key, from, options);
      return kind === 'primary' ? undefined : from.toLowerCase();
    },
  };
}
