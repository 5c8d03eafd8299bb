import { azureSdk } from '../core/azure-sdk';
import {
  deleteRow,
  getRow,
  guarded,
  hashOf,
  listRows,
  NOTIFY_TABLES,
  str,
  type TableOf,
} from './tables';

export interface SeenTable {
  /** The change key last delivered for a message (null: seen without one), undefined if unseen. */
  seen(watch: string, messageId: string): Promise<string | null | undefined>;
  /** Up to `max` seen messages of a watch, by message-id hash (one read for a whole run). */
  seenAll(watch: string, max: number): Promise<Map<string, string>>;
  markSeen(watch: string, messageId: string, changeKey: string | null): Promise<void>;
  forget(watch: string, messageId: string): Promise<void>;
}

/**
 * `notifyseen`: partition = watch, row = hash of the message id → the last change key delivered
 * (dedupe, and no second `message.created` after a resync).
 */
export function createSeenTable(table: TableOf): SeenTable {
  const seenTable = () => table(NOTIFY_TABLES.seen);
  return {
    seen: (watch, messageId) =>
      guarded('reading a seen message', async () => {
        const row = await getRow(await seenTable(), watch, hashOf(messageId));
        return row ? (str(row.changeKey) ?? null) : undefined;
      }),
    seenAll: (watch, max) =>
      guarded('reading seen messages', async () => {
        const filter = azureSdk.dataTables().odata`PartitionKey eq ${watch}`;
        const rows = await listRows(await seenTable(), filter, max);
        return new Map(rows.map((r) => [r.rowKey, str(r.changeKey) ?? '']));
      }),
    markSeen: (watch, messageId, changeKey) =>
      guarded('recording a seen message', async () => {
        await (
          await seenTable()
        ).upsertEntity(
          { partitionKey: watch, rowKey: hashOf(messageId), changeKey: changeKey ?? '' },
          'Replace',
        );
      }),
    forget: (watch, messageId) =>
      guarded('forgetting a message', async () => {
        await deleteRow(await seenTable(), watch, hashOf(messageId));
      }),
  };
}
