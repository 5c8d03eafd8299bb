import { createFolderResolver } from '../src/graph/folder-resolver';
import { createLogger } from '../src/core/logger';
import { startSandbox } from '../src/local/sandbox';
import { createMessageActions } from '../src/mail/message-actions';
import { meterFetch, ourGraph, sdkClient, timed, token } from './read';
import { type BenchResult } from './result';

const UPN = 'adele@contoso.test';
const COUNT = 1000;
const LATENCY_MS = 50;
const log = createLogger(() => undefined);

/**
 * Marking 1,000 messages read at 50 ms network latency per round trip: `POST messages/batch`
 * (Graph `$batch`, 20 per request) against one PATCH per message through the Graph SDK, 4 at a
 * time (the mailbox's concurrency limit), measured in the same run on two sets of 1,000 unread
 * messages. Run twice: with no time inside Outlook, and with 20 ms of Outlook's own time per
 * message, which a batch pays too (Outlook runs 4 of its items at once), so it saves less.
 */
export async function benchActions(): Promise<BenchResult[]> {
  return [...(await markRead(0)), ...(await markRead(20))];
}

async function markRead(serviceMs: number): Promise<BenchResult[]> {
  const sandbox = await startSandbox({ messagesPerUser: 0, latencyMs: LATENCY_MS, serviceMs });
  try {
    const add = (i: number) =>
      sandbox.control.addMessage(UPN, 'inbox', {
        subject: `Bench ${i}`,
        body: { contentType: 'text', content: 'x' },
        from: { emailAddress: { address: 'ian.obrien@adatum.example' } },
        isRead: false,
      }).immutableId;
    const sdkIds = Array.from({ length: COUNT }, (_, i) => add(i));
    const ourIds = Array.from({ length: COUNT }, (_, i) => add(COUNT + i));

    const sdk = sdkClient(sandbox, await token(sandbox));
    let meter = meterFetch();
    const baseline = await timed(async () => {
      const queue = [...sdkIds];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let id = queue.shift(); id; id = queue.shift()) {
            await sdk.api(`/me/messages/${id}`).patch({ isRead: true });
          }
        }),
      );
    });
    const baselineRequests = meter.requests;
    meter.restore();

    const actions = createMessageActions({
      graph: ourGraph(sandbox),
      folders: createFolderResolver(),
    });
    meter = meterFetch();
    const ours = await timed(() =>
      actions.batch(
        { serviceId: 'bench', credentialId: 'c1' },
        { action: 'markRead', messageIds: ourIds },
        { abortSignal: AbortSignal.timeout(300_000), log },
      ),
    );
    const ourRequests = meter.requests;
    meter.restore();
    const unread = sandbox.control.messages(UPN, 'inbox').filter((m) => m.isRead === false).length;
    const done = ours.value.kind === 'done' ? ours.value.result.done : 0;
    if (done !== COUNT || unread !== 0) {
      throw new Error(`not every message was marked read: ${done} done, ${unread} unread`);
    }
    const name = `mark ${COUNT} messages read, ${serviceMs} ms Outlook time per message`;
    const baselineName = 'Graph SDK, one PATCH per message, 4 at a time';
    return [
      {
        name: `${name}: Graph round trips`,
        value: ourRequests,
        unit: 'requests',
        baseline: baselineRequests,
        baselineName,
      },
      {
        name: `${name}: wall time at ${LATENCY_MS} ms/round trip`,
        value: Math.round(ours.ms),
        unit: 'ms',
        baseline: Math.round(baseline.ms),
        baselineName,
      },
    ];
  } finally {
    await sandbox.close();
  }
}
