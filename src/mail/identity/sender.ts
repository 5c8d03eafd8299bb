import { ValidationError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type SenderName } from '../recipients';
import { type OutgoingMessage, type Recipient } from '../send-types';
import { placeSignature } from './compose';
import { type IdentityKind, identityKind, type IdentityService } from './identities';
import { type SignatureService } from './signatures';

/**
 * The one step every sender path takes before a message is planned (send, bulk jobs, reports,
 * replies, forwards and drafts, template previews): `from` is checked against the credential's
 * identities and the signature is put into the body with its inline images. Nothing here calls a
 * mail endpoint; an unknown `from` is a 400 before anything is sent.
 */

export interface SenderPreparer {
  prepare(
    credential: CredentialKey,
    message: OutgoingMessage,
    options: { abortSignal?: AbortSignal | undefined; log: Logger },
  ): Promise<OutgoingMessage>;
  /**
   * What `address` is to the credential; a 400 naming `from` when it may not send as it. For a
   * `from` that comes without a message to prepare (a draft's PATCH, a draft about to be sent).
   */
  checkFrom(
    credential: CredentialKey,
    address: string,
    options: CheckFromOptions,
  ): Promise<IdentityKind>;
  /** A `from` that may be a name alone (a template's), with the primary address filled in. */
  resolveFrom(
    credential: CredentialKey,
    from: SenderName,
    options: CheckFromOptions,
  ): Promise<Recipient>;
}

export interface CheckFromOptions {
  abortSignal?: AbortSignal | undefined;
  log: Logger;
  /** The field a refusal names (default `from`). */
  fieldPath?: string;
}

export interface SenderPreparerDependencies {
  identities: IdentityService;
  /** Undefined where no storage is configured: messages then carry no signature. */
  signatures: () => SignatureService | undefined;
}

export function createSenderPreparer(deps: SenderPreparerDependencies): SenderPreparer {
  async function checkFrom(
    credential: CredentialKey,
    address: string,
    options: CheckFromOptions,
  ): Promise<IdentityKind> {
    const identities = await deps.identities.get(credential, options);
    const kind = identityKind(identities, address);
    if (kind === undefined) {
      throw new ValidationError({
        path: options.fieldPath ?? 'from',
        message: `${address} is not an address this credential may send as (its primary address, one of its aliases or a configured shared mailbox; GET credentials/${credential.credentialId}/identities lists them)`,
      });
    }
    return kind;
  }

  return {
    checkFrom,
    async resolveFrom(credential, from, options) {
      const address =
        from.address ?? (await deps.identities.get(credential, options)).primary.address;
      return from.name === undefined ? { address } : { address, name: from.name };
    },
    async prepare(credential, message, options) {
      let prepared = message;
      let alias: string | undefined;
      if (message.from) {
        const kind = await checkFrom(credential, message.from.address, options);
        prepared = { ...prepared, fromKind: kind };
        if (kind !== 'primary') alias = message.from.address;
      }
      const signatures = message.signature === false ? undefined : deps.signatures();
      const signature = await signatures?.forSender(credential, alias);
      const use = signature !== undefined && (message.signature ?? signature.default);
      const body = placeSignature(message.body, message.contentType, use ? signature : undefined);
      if (!use || message.contentType !== 'html') return { ...prepared, body };
      const present = new Set(message.attachments.map((a) => a.contentId?.toLowerCase()));
      const images = signatures!
        .images(credential.serviceId, signature)
        .filter((image) => !present.has(image.contentId?.toLowerCase()));
      return { ...prepared, body, attachments: [...message.attachments, ...images] };
    },
  };
}
