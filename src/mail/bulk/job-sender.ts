import { type FieldError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { identityKind, type IdentityService } from '../identity/identities';
import { mergeSender, type SenderFields } from '../recipients';
import { type Recipient } from '../send-types';
import { type JobRequest, type Row } from './request';
import { type JobSender } from './store';

/**
 * Who the job's messages go out as: its own `from` and `replyTo` over the template's (a name
 * alone goes out from the primary address), and every address used — the job's, the
 * template's and each row's own — one the credential may send as. Problems name the field
 * they came from; identities are read once.
 */
export async function jobSender(
  identities: IdentityService | undefined,
  key: CredentialKey,
  request: Pick<JobRequest, 'from' | 'replyTo'>,
  template: SenderFields | undefined,
  rows: ReadonlyArray<Pick<Row, 'from'> | undefined>,
  options: { abortSignal?: AbortSignal; log: Logger },
): Promise<{ sender: Pick<JobSender, 'from' | 'replyTo'>; errors: FieldError[] }> {
  const merged = mergeSender([request, template]);
  const rowFroms = rows.flatMap((row, index) => (row?.from ? [{ index, from: row.from }] : []));
  if (!identities || (merged.from === undefined && rowFroms.length === 0)) {
    const from = merged.from?.address === undefined ? undefined : (merged.from as Recipient);
    return { sender: { ...(from ? { from } : {}), replyTo: merged.replyTo }, errors: [] };
  }
  const known = await identities.get(key, options);
  const errors: FieldError[] = [];
  const refuse = (path: string, address: string, whose = '') =>
    errors.push({
      path,
      message: `${whose}${address} is not an address this credential may send as (GET credentials/${key.credentialId}/identities lists them)`,
    });
  const address = merged.from?.address ?? known.primary.address;
  if (identityKind(known, address) === undefined) {
    if (request.from) refuse('from', address);
    else refuse('templateId', address, "the template's from: ");
  }
  for (const { index, from } of rowFroms) {
    if (identityKind(known, from.address) === undefined) {
      refuse(`recipients[${index}].from`, from.address);
    }
  }
  const from = merged.from && ({ ...merged.from, address } as Recipient);
  return { sender: { ...(from ? { from } : {}), replyTo: merged.replyTo }, errors };
}
