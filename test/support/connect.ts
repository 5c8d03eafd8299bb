import { type CredentialService } from '../../src/credentials/service';

/** The callback then the owner's "Connect mailbox" (what the confirmation page's form posts). */
export async function connectAndConfirm(
  credentials: CredentialService,
  query: { state: string; code: string },
) {
  const outcome = await credentials.beginConnect(query);
  if (outcome.kind !== 'confirm') throw new Error(`connect refused: ${outcome.kind}`);
  const { ticket } = outcome;
  const result = await credentials.confirmConnect({
    confirmation: ticket.confirmation,
    cookies: new Map([[ticket.cookieName, ticket.browserNonce]]),
    accept: true,
  });
  if ('cancelled' in result) throw new Error('unexpectedly cancelled');
  return result;
}
