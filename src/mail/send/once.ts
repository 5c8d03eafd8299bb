import { type CredentialKey } from '../../credentials/types';
import { AppError, isErrorOf, SendOutcomeUnknownError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type IdempotencyStore } from '../idempotency';
import { type SendResult } from '../send-types';

/** What an Idempotency-Key remembers: the result, or that the outcome is unknown. */
export type IdempotentSendOutcome =
  { kind: 'sent'; result: SendResult } | { kind: 'unknown'; sendId: string };

/**
 * Runs a send at most once per Idempotency-Key: a repeat gets the first result (or its unknown
 * outcome) without sending, and an attempt that died after it began sending is never repeated.
 * `run` calls `commit` right before its irreversible request.
 */
export async function sendOnce(
  store: IdempotencyStore<IdempotentSendOutcome> | undefined,
  credential: CredentialKey,
  options: {
    abortSignal?: AbortSignal | undefined;
    log: Logger;
    idempotency: { key: string; fingerprint: string };
  },
  run: (commit: (sendId: string) => Promise<void>) => Promise<SendResult>,
): Promise<SendResult> {
  if (!store) throw new AppError('internal', 'Idempotency keys need an idempotency store.');
  const { key, fingerprint } = options.idempotency;
  const begun = await store.begin(credential, key, fingerprint, options);
  if (begun.kind === 'replay') {
    if (begun.value.kind === 'sent') return begun.value.result;
    throw new SendOutcomeUnknownError(begun.value.sendId);
  }
  const { claim, takenOver } = begun;
  if (takenOver?.committed) {
    // The first attempt died after it started sending: never send a second time.
    const sendId = takenOver.note ?? 'unknown';
    await claim.complete({ kind: 'unknown', sendId });
    throw new SendOutcomeUnknownError(sendId);
  }
  let sent: SendResult;
  try {
    sent = await run((sendId) => claim.commit(sendId));
  } catch (error) {
    if (isErrorOf(error, SendOutcomeUnknownError)) {
      await claim.complete({ kind: 'unknown', sendId: error.sendId }).catch((e: unknown) => {
        options.log.error('could not record an unknown send outcome', { error: e });
      });
    } else {
      await claim.release().catch((e: unknown) => {
        options.log.warn('could not release an idempotency key', { error: e });
      });
    }
    throw error;
  }
  // The mail is out: a storage hiccup now must not turn success into an error.
  await claim.complete({ kind: 'sent', result: sent }).catch((error: unknown) => {
    options.log.error('could not record a send result for its idempotency key', { error });
  });
  return sent;
}
