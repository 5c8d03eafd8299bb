import { randomBytes, randomUUID } from 'node:crypto';

import { budgetSignal } from '../../src/core/abort';
import { createLogger } from '../../src/core/logger';
import { type MailboxGraph } from '../../src/graph/client';
import { type SendContext } from '../../src/mail/send/context';
import { type AttachmentInput, type OutgoingMessage } from '../../src/mail/send-types';
import { type DocGraph } from './send-doc-graph';

export const stageLog = createLogger(() => undefined, {});

/**
 * One send's context in the signed-in mailbox of a documented Graph (`send-doc-graph.ts`), with
 * short lookup windows, for testing a send stage alone.
 */
export async function stageContext(
  doc: DocGraph,
  message: OutgoingMessage,
  extra: Partial<SendContext> = {},
): Promise<SendContext> {
  const abortSignal = extra.abortSignal ?? budgetSignal(20_000);
  const mailbox: MailboxGraph = await doc.graph.forCredential(
    { serviceId: 'svc', credentialId: 'c1' },
    { abortSignal, log: stageLog },
  );
  return {
    message,
    sendId: randomUUID(),
    mailbox: undefined,
    remember: () => Promise.resolve(),
    deleteCopyLater: () => Promise.resolve(),
    work: mailbox,
    lookup: mailbox,
    abortSignal,
    workSignal: abortSignal,
    log: stageLog,
    slot: (signal) => doc.graph.limiter.acquire(mailbox.mailboxAddress, { abortSignal: signal }),
    commit: () => Promise.resolve(),
    timings: { lostAnswerMs: 500, afterSendMs: 300, firstDelayMs: 20 },
    ...extra,
  };
}

/** A file that declares 5,000,000 bytes and breaks after the first 1000: its upload fails midway. */
export function brokenFile(name: string): AttachmentInput {
  return {
    name,
    contentType: 'application/octet-stream',
    size: 5_000_000,
    open: async function* () {
      yield randomBytes(1000);
      await Promise.resolve();
      throw new Error('the source broke');
    },
  };
}
