/**
 * How long a chunk (one `$batch` of 20) takes for a mailbox, measured in this process: what a
 * batch request plans its time with. Before a mailbox is measured the declared figure is used:
 * Outlook runs 4 of a batch's items at a time, a few hundred milliseconds each, so five waves
 * and the round trip come to about 1.5 s.
 */
export const ASSUMED_CHUNK_MS = 1_500;
/** Mailboxes remembered; the oldest is forgotten first. */
const MAX_MAILBOXES = 1_000;

export interface ChunkPace {
  estimateMs(mailbox: string): number;
  record(mailbox: string, ms: number): void;
}

export function createChunkPace(assumedMs = ASSUMED_CHUNK_MS): ChunkPace {
  const measured = new Map<string, number>();
  return {
    estimateMs: (mailbox) => measured.get(mailbox) ?? assumedMs,
    record(mailbox, ms) {
      const previous = measured.get(mailbox);
      measured.delete(mailbox);
      // A slow chunk counts at once (throttling, a busy mailbox); fast ones bring it down slowly.
      measured.set(mailbox, previous === undefined ? ms : Math.max(ms, 0.7 * previous + 0.3 * ms));
      if (measured.size > MAX_MAILBOXES) measured.delete(measured.keys().next().value!);
    },
  };
}
